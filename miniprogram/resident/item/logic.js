// Item detail: one help request or application, its status in plain words and its timeline.
const { formatShanghai } = require('../../utils/time');

const PATHS = { help: '/help-requests', application: '/applications' };

// A sentence on what happens next, by status; the server's status_label is shown beside it.
const NEXT_STEP = {
  received: '窗口已经收到，工作人员会尽快和您联系。',
  acknowledged: '窗口已确认，工作人员正在安排。',
  assigned: '已有工作人员负责，会和您联系或上门了解情况。',
  visiting: '工作人员会上门了解情况，请保持电话畅通。',
  investigating: '正在调查核实家庭情况，请耐心等待。',
  referred: '已转给负责的部门办理，窗口会跟进结果。',
  publicizing: '正在村（社区）公示，公示期 7 天。',
  approved: '已经批准，救助金一般从下个月开始发放。',
  rejected: '没有通过。窗口会书面告诉您原因，您可以申请复核。',
  closed: '这件事已经办结。',
  converted: '已转为正式申请办理。',
  merged: '和同一件事合并办理了。',
};

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

function detailView(item) {
  const kindLabel = item.kind === 'application' ? '申请' : '求助';
  return {
    title: item.kind === 'application' ? `${item.category_label || ''}申请` : (item.urgent ? '紧急求助' : '求助'),
    kindLabel,
    number: item.number || '',
    statusLabel: item.status_label || '',
    nextStep: NEXT_STEP[item.status] || '',
    township: (item.township && item.township.name) || '',
    window: item.window || null,
    rows: personRows(item),
    timeline: item.timeline || [],
  };
}

module.exports = { detailPath, detailView, NEXT_STEP };
