// 我的: my help requests and applications, newest first, in cursor pages.
const { formatShanghai } = require('../../utils/time');
const { statusLabel } = require('../../utils/statuses');

const KIND_LABELS = { help: '求助', application: '申请' };
const PAGE_SIZE = 20;

function itemRow(item) {
  return {
    uid: `${item.kind}:${item.id}`,
    kind: item.kind,
    id: item.id,
    kindLabel: KIND_LABELS[item.kind] || '事项',
    title: item.title || KIND_LABELS[item.kind] || '事项',
    number: item.number || '',
    statusLabel: statusLabel(item),
    updated: formatShanghai(item.updated_at || item.created_at),
    url: `/resident/item/index?kind=${item.kind}&id=${item.id}`,
  };
}

/**
 * The list after one page arrived: a refresh replaces, a next page appends without repeating
 * a row (an item that moved between pages appears once).
 */
function mergePage(rows, page, reset) {
  const base = reset ? [] : rows.slice();
  const seen = {};
  base.forEach((r) => { seen[r.uid] = true; });
  (page.items || []).forEach((item) => {
    const row = itemRow(item);
    if (!seen[row.uid]) {
      seen[row.uid] = true;
      base.push(row);
    }
  });
  return { rows: base, nextCursor: page.next_cursor || null, done: !page.next_cursor };
}

function pageQuery(cursor) {
  return cursor ? { cursor, limit: PAGE_SIZE } : { limit: PAGE_SIZE };
}

// onShow reloads the list at most this often.
const RELOAD_MIN_MS = 10 * 1000;

function shouldReload(lastLoadAt, nowMs) {
  return !lastLoadAt || nowMs - lastLoadAt >= RELOAD_MIN_MS;
}

module.exports = {
  itemRow, mergePage, pageQuery, shouldReload, KIND_LABELS, PAGE_SIZE, RELOAD_MIN_MS,
};
