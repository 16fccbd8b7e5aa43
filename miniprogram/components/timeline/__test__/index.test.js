const path = require('path');
const simulate = require('miniprogram-simulate');
const { toEntries } = require('../entries');

const ID = simulate.load(path.join(__dirname, '..', 'index'));

describe('timeline', () => {
  test('shows newest first, in Beijing time, with the server sentence', async () => {
    const comp = simulate.render(ID, {
      items: [
        { at: '2026-05-01T02:00:00Z', kind: 'created', message: '已提交求助' },
        { at: '2026-05-01T08:30:00+08:00', kind: 'acknowledged', message: '递铺街道窗口已确认，会尽快联系您' },
        { at: '2026-05-02T01:15:00Z', kind: 'visited', message: '' },
      ],
    });
    comp.attach(document.createElement('parent-wrapper'));
    await simulate.sleep(0);
    const texts = comp.querySelectorAll('.timeline__text').map((n) => n.dom.textContent);
    expect(texts).toEqual(['最新：工作人员已上门了解情况', '已提交求助', '递铺街道窗口已确认，会尽快联系您']);
    const times = comp.querySelectorAll('.timeline__time').map((n) => n.dom.textContent);
    expect(times).toEqual(['2026年5月2日 09:15', '2026年5月1日 10:00', '2026年5月1日 08:30']);
    expect(comp.querySelectorAll('.timeline__item--latest').length).toBe(1);
  });

  test('empty list says so in words', () => {
    const comp = simulate.render(ID, { items: [], emptyText: '窗口还没有处理' });
    comp.attach(document.createElement('parent-wrapper'));
    expect(comp.querySelector('.timeline__empty').dom.textContent).toBe('窗口还没有处理');
  });

  test('an unknown kind without a sentence still reads as words', () => {
    expect(toEntries([{ at: '2026-01-01T00:00:00Z', kind: 'x-new-kind' }])[0].text).toBe('事项有了新进展');
  });
});
