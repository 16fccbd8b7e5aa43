// 我的上报: reports waiting on the phone (the offline queue) above those the server has.
const { STATE_LABELS } = require('../../utils/offline-queue');
const { formatShanghai } = require('../../utils/time');

function queuedRow(item) {
  const done = (item.photos || []).filter((p) => p.state === 'done').length;
  return {
    clientId: item.client_id,
    name: (item.body && item.body.subject && item.body.subject.name) || '',
    state: item.state,
    stateLabel: STATE_LABELS[item.state] || '',
    error: item.error || '',
    observed: formatShanghai(item.body && item.body.observed_at),
    photos: `${done}/${(item.photos || []).length}`,
    // a refused report can be corrected; one already on the server can only be dismissed
    canEdit: item.state === 'failed' && !item.report,
    canRetry: item.state === 'failed',
  };
}

function serverRow(r) {
  return {
    id: r.id,
    number: r.number || '',
    name: (r.subject && r.subject.name) || '',
    statusLabel: r.status_label || '',
    township: (r.township && r.township.name) || '',
    created: formatShanghai(r.created_at),
    urgent: !!r.urgent,
  };
}

// Server rows after a page; a report still in the queue is not shown twice.
function mergeReports(rows, page, reset, queuedIds) {
  const base = reset ? [] : rows.slice();
  const seen = {};
  base.forEach((r) => { seen[r.id] = true; });
  (page.items || []).forEach((r) => {
    if (seen[r.id] || (queuedIds && queuedIds.indexOf(r.client_id) >= 0)) return;
    seen[r.id] = true;
    base.push(serverRow(r));
  });
  return { rows: base, nextCursor: page.next_cursor || null };
}

// The logout confirmation: how many of this worker's reports are still on the phone.
function logoutMessage(items) {
  const list = items || [];
  const failed = list.filter((it) => it.state === 'failed').length;
  const waiting = list.length - failed;
  const parts = [];
  if (waiting) parts.push(`还有 ${waiting} 份报告等待发送，会保存在这部手机上，您下次登录后自动发送（别人登录不会发送）。`);
  if (failed) parts.push(`有 ${failed} 份报告没有发送成功，要您登录后修改或重新发送。`);
  return `${parts.join('')}确定退出登录吗？`;
}

module.exports = { queuedRow, serverRow, mergeReports, logoutMessage };
