const path = require('path');
const simulate = require('miniprogram-simulate');
const { wxmlAttr } = require('../../../__tests__/helpers/fake-wx');

const ID = simulate.load(path.join(__dirname, '..', 'index'));
const TAGS = [
  { key: 'serious_illness', label: '重病' },
  { key: 'disability', label: '残疾' },
  { key: 'elderly_alone', label: '独居老人' },
];

function mount(props) {
  const comp = simulate.render(ID, Object.assign({ tags: TAGS }, props));
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

describe('tag-picker', () => {
  test('renders every tag with its chosen state', () => {
    const comp = mount({ value: ['disability'] });
    const items = comp.querySelectorAll('.tags__item');
    expect(items.map((i) => i.dom.textContent)).toEqual(['重病', '✓ 残疾', '独居老人']);
    expect(wxmlAttr(items[1], 'ariaChecked')).toBe(true);
    expect(items[1].dom.className).toContain('tags__item--on');
    expect(items[0].dom.className).not.toContain('tags__item--on');
  });

  test('tapping toggles and reports the keys in list order', async () => {
    const comp = mount({ value: ['elderly_alone'] });
    const change = jest.fn();
    comp.addEventListener('change', change);
    comp.querySelectorAll('.tags__item')[0].dispatchEvent('tap');
    await simulate.sleep(0);
    expect(change.mock.calls[0][0].detail).toEqual({ value: ['serious_illness', 'elderly_alone'] });

    comp.querySelectorAll('.tags__item')[2].dispatchEvent('tap');
    await simulate.sleep(0);
    expect(change.mock.calls[1][0].detail).toEqual({ value: ['serious_illness'] });
    expect(comp.querySelectorAll('.tags__item--on').length).toBe(1);
  });

  test('max stops the next choice and says so', async () => {
    const comp = mount({ value: ['disability'], max: 1 });
    const change = jest.fn();
    const overflow = jest.fn();
    comp.addEventListener('change', change);
    comp.addEventListener('overflow', overflow);
    comp.querySelectorAll('.tags__item')[0].dispatchEvent('tap');
    await simulate.sleep(0);
    expect(change).not.toHaveBeenCalled();
    expect(overflow.mock.calls[0][0].detail).toEqual({ max: 1 });
  });
});
