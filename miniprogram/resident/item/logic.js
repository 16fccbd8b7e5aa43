// Item detail: one help request or application, its status in plain words and its timeline.
const { formatShanghai } = require('../../utils/time');
const { statusText, statusLabel } = require('../../utils/statuses');

const PATHS = { help: '/help-requests', application: '/applications' };

function detailPath(kind, id) {
  const base = PATHS[kind];
  if (!base || !id) return null;
  return `${base}/${encodeURIComponent(id)}`;
}

function personRows(item) {
  const rows = [];
  if (item.kind === 'application') {
    if (item.category_label) rows.push({ label: '救助类别', value: item.category_label });
    if (item.applicant) {
      rows.push({ label: '申请人', value: item.applicant.name || '' });
      if (item.applicant.id_number) rows.push({ label: '身份证', value: item.applicant.id_number });
    }
    if (item.members && item.members.length) rows.push({ label: '家庭成员', value: `${item.members.length} 人` });
    if (item.hukou_village) rows.push({ label: '户籍', value: item.hukou_village.name || item.hukou_village.code });
  } else {
    rows.push({ label: '为谁求助', value: item.for_self ? '为自己' : `为${(item.subject && item.subject.name) || '他人'}` });
    if (item.hardship_labels && item.hardship_labels.length) rows.push({ label: '困难', value: item.hardship_labels.join('、') });
    if (item.urgent) rows.push({ label: '紧急', value: '是' });
  }
  if (item.photos && item.photos.length) rows.push({ label: '照片', value: `${item.photos.length} 张` });
  rows.push({ label: '提交时间', value: formatShanghai(item.created_at) });
  return rows;
}

// The decision's deadline in plain words (applications, once the window has accepted them).
function deadlineText(item) {
  if (item.kind !== 'application' || !item.decision_due_at) return '';
  const left = item.working_days_left;
  const day = formatShanghai(item.decision_due_at).replace(/\s.*$/, '');
  let text;
  if (typeof left !== 'number') text = `审核期限：${day}`;
  else if (left > 0) text = `审核期限：${day}，还有 ${left} 个工作日`;
  else if (left === 0) text = `审核期限：今天（${day}）`;
  else text = `审核期限已过（${day}），可打电话问窗口进度`;
  if (item.deadline_extended) text += '。审核期限已依法延长';
  return text;
}

function detailView(item) {
  const kindLabel = item.kind === 'application' ? '申请' : '求助';
  return {
    title: item.kind === 'application' ? `${item.category_label || ''}申请` : (item.urgent ? '紧急求助' : '求助'),
    kindLabel,
    number: item.number || '',
    statusLabel: statusLabel(item),
    nextStep: statusText(item.kind, item.status).next,
    deadline: deadlineText(item),
    township: (item.township && item.township.name) || '',
    window: item.window || null,
    rows: personRows(item),
    timeline: item.timeline || [],
  };
}

module.exports = { detailPath, detailView, deadlineText };
