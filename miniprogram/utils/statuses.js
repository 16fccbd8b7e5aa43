// Every status the server sends for a resident's items, in plain words, by kind of item.
// label: the short words shown after "现在：" (the server's status_label, the same words; used
// when an answer has none); next: one sentence on what happens next.
// Exactly the statuses of docs/mp-statuses.json, the server's list: __tests__/utils/statuses.test.js
// fails when one is missing here, or here and not there.
const STATUS_TEXTS = {
  help: {
    received: { label: '已收到，待窗口受理', next: '窗口已经收到，工作人员会尽快和您联系。' },
    acknowledged: { label: '窗口已受理', next: '窗口已确认，工作人员正在安排。' },
    referred: { label: '已转相关部门办理', next: '已转给负责的部门办理，窗口会跟进结果。' },
    converted: { label: '窗口已代为提出救助申请', next: '窗口已经按这次求助提出了救助申请，接下来按申请办理。' },
    merged: { label: '已与同一户的其他报告合并办理', next: '和同一户的其他求助合并在一起办理，窗口会一并处理。' },
    closed: { label: '已办结', next: '这件事已经办结。如有新的困难，可以再次求助。' },
  },
  application: {
    received: { label: '已提交，待窗口受理', next: '窗口已经收到您的申请，工作人员会尽快查看材料。' },
    accepted: { label: '窗口已受理，进入审核', next: '申请已经受理，接下来会核对家庭经济状况并上门了解情况，请保持电话畅通。' },
    materials_requested: { label: '需要补充材料', next: '还缺一些材料。请看下面“办理经过”里窗口列出的材料，补齐后交给窗口。' },
    refused: { label: '不予受理', next: '窗口决定不予受理，会书面告诉您原因；有疑问可以打电话问窗口。' },
  },
};

// {label, next} of a status; unknown kinds or statuses give empty words, never an error.
function statusText(kind, status) {
  const byKind = STATUS_TEXTS[kind];
  const text = byKind && Object.prototype.hasOwnProperty.call(byKind, status) ? byKind[status] : null;
  return text || { label: '', next: '' };
}

// What to show after "现在：": the server's label, else ours.
function statusLabel(item) {
  return (item && item.status_label) || statusText(item && item.kind, item && item.status).label;
}

module.exports = { STATUS_TEXTS, statusText, statusLabel };
