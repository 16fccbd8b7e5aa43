// Timeline entries in plain words: Beijing time, newest first, the server's sentence as it is.
const { formatShanghai } = require('../../utils/time');

// Used only when the server sent no sentence for an event.
const KIND_WORDS = {
  created: '您的事项已提交',
  received: '窗口已收到',
  acknowledged: '窗口已确认，会尽快联系您',
  assigned: '已安排工作人员办理',
  visited: '工作人员已上门了解情况',
  referred: '已转给相关部门办理',
  transferred: '已转给其他乡镇（街道）窗口',
  merged: '与同一件事合并办理',
  approved: '已批准',
  rejected: '没有通过，窗口会书面告知原因',
  closed: '已办结',
  photo: '照片已收到',
};

function toEntries(items) {
  const list = (items || []).filter((e) => e && e.at);
  list.sort((a, b) => new Date(b.at).getTime() - new Date(a.at).getTime());
  return list.map((e, i) => ({
    key: `${e.at}-${i}`,
    time: formatShanghai(e.at),
    text: e.message || KIND_WORDS[e.kind] || '事项有了新进展',
    latest: i === 0,
  }));
}

module.exports = { toEntries, KIND_WORDS };
