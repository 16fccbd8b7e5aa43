// The mini-program's status texts against the server's list, docs/mp-statuses.json (written by
// `yimen mp-statuses`, checked against the server's enums by tests/mp/test_statuses.py).
const fs = require('fs');
const path = require('path');
const { STATUS_TEXTS, statusText, statusLabel } = require('../../utils/statuses');
const { detailView } = require('../../resident/item/logic');
const { mergePage } = require('../../pages/mine/logic');

const SERVER_FILE = path.resolve(__dirname, '../../../docs/mp-statuses.json');
const SERVER = JSON.parse(fs.readFileSync(SERVER_FILE, 'utf8'));

const sorted = (o) => Object.keys(o).sort();

describe('状态文字与服务端的状态清单', () => {
  test('the same kinds of item as the server', () => {
    expect(sorted(STATUS_TEXTS)).toEqual(sorted(SERVER));
  });

  describe.each(Object.keys(SERVER))('%s', (kind) => {
    test('a text for every status the server sends, and none for a status it never sends', () => {
      const ours = sorted(STATUS_TEXTS[kind] || {});
      const theirs = sorted(SERVER[kind]);
      expect({ missing: theirs.filter((s) => ours.indexOf(s) < 0), extra: ours.filter((s) => theirs.indexOf(s) < 0) })
        .toEqual({ missing: [], extra: [] });
    });

    test.each(Object.keys(SERVER[kind]))('%s: the server\'s label, and one plain sentence on what happens next', (status) => {
      const text = statusText(kind, status);
      expect(text.label).toBe(SERVER[kind][status]);
      expect(text.next).toMatch(/^[^\n]{6,60}。$/);
    });
  });
});

describe('状态文字的使用', () => {
  test('every status of the server gets its sentence on the item page', () => {
    Object.keys(SERVER).forEach((kind) => {
      Object.keys(SERVER[kind]).forEach((status) => {
        const view = detailView({ kind, status, status_label: SERVER[kind][status], created_at: '2026-05-01T01:00:00Z' });
        expect(view.nextStep).toBe(STATUS_TEXTS[kind][status].next);
        expect(view.statusLabel).toBe(SERVER[kind][status]);
      });
    });
  });

  test('a status of the other kind, an unknown one, or an inherited name has no words', () => {
    expect(statusText('help', 'refused')).toEqual({ label: '', next: '' });
    expect(statusText('application', 'publicizing')).toEqual({ label: '', next: '' });
    expect(statusText('application', 'toString')).toEqual({ label: '', next: '' });
    expect(statusText('other', 'received')).toEqual({ label: '', next: '' });
  });

  test('the server\'s label comes first; ours when an answer has none', () => {
    expect(statusLabel({ kind: 'application', status: 'accepted', status_label: '窗口已受理' })).toBe('窗口已受理');
    expect(statusLabel({ kind: 'application', status: 'accepted' })).toBe('窗口已受理，进入审核');
    const { rows } = mergePage([], { items: [{ kind: 'help', id: '1', status: 'merged', created_at: '2026-05-01T01:00:00Z' }] }, true);
    expect(rows[0].statusLabel).toBe('已与同一户的其他报告合并办理');
  });
});
