const path = require('path');
const simulate = require('miniprogram-simulate');
const { wxmlAttr } = require('../../../__tests__/helpers/fake-wx');

const ID = simulate.load(path.join(__dirname, '..', 'index'));

describe('large-text-toggle', () => {
  test('shows its state and asks for the opposite when tapped', async () => {
    const comp = simulate.render(ID, { on: false });
    comp.attach(document.createElement('parent-wrapper'));
    const change = jest.fn();
    comp.addEventListener('change', change);
    expect(comp.querySelector('.lt__state').dom.textContent).toBe('已关闭');
    expect(wxmlAttr(comp.querySelector('.lt'), 'ariaChecked')).toBe(false);

    comp.querySelector('.lt').dispatchEvent('tap');
    await simulate.sleep(0);
    expect(change.mock.calls[0][0].detail).toEqual({ on: true });

    comp.setData({ on: true });
    expect(comp.querySelector('.lt__state').dom.textContent).toBe('已打开');
    comp.querySelector('.lt').dispatchEvent('tap');
    await simulate.sleep(0);
    expect(change.mock.calls[1][0].detail).toEqual({ on: false });
  });
});
