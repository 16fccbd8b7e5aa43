// 首页 logic: the services grid and the 一键求助 flow, with WeChat calls passed in so jest can
// drive it.
const { checkPhone } = require('../../utils/validate');
const { isOutcomeUnknown } = require('../../utils/request');

const SERVICES = [
  { key: 'help', title: '我要求助', desc: '为自己或别人求助', url: '/resident/help/index' },
  { key: 'apply', title: '申请救助', desc: '低保、特困、临时救助等', url: '/resident/apply/index' },
  { key: 'mine', title: '办理进度', desc: '看看我的事办到哪一步', url: '/pages/mine/index', tab: true },
  { key: 'window', title: '找窗口', desc: '乡镇（街道）救助窗口', url: '/resident/window/index' },
];

const QUICK_CONFIRM = {
  title: '一键求助',
  content: '确定要求助吗？我们会把您现在的位置发给所在乡镇（街道）的救助窗口，工作人员会尽快联系您。',
  confirmText: '确定求助',
  cancelText: '不了',
};

// A quick request whose answer was lost is sent again as it was (same client_id) for this long.
const PENDING_TTL_MS = 30 * 60 * 1000;

/**
 * The POST /mp/v1/help-requests body of the 一键求助 button: location, or the village when
 * location was refused, and the resident's own phone if they ever gave one.
 */
function buildQuickHelp({ clientId, deviceId, location, villageCode, contactPhone }) {
  const body = { client_id: clientId, device_id: deviceId, for_self: true, quick: true };
  if (location) {
    body.location = { lat: location.lat, lng: location.lng, coord_type: 'gcj02' };
    if (typeof location.accuracy_m === 'number') body.location.accuracy_m = location.accuracy_m;
  } else if (villageCode) {
    body.subject = { village_code: villageCode };
  } else {
    throw new Error('一键求助需要位置或所在村（社区）');
  }
  const phone = contactPhone ? checkPhone(contactPhone) : null;
  if (phone && phone.ok) body.contact_phone = phone.value;
  return body;
}

// The earlier quick request still waiting for an answer, if recent enough to resend as it was.
function pendingQuickHelp(stored, nowMs) {
  if (!stored || !stored.body || typeof stored.at !== 'number') return null;
  return nowMs - stored.at < PENDING_TTL_MS ? stored : null;
}

/**
 * The 一键求助 flow. deps: confirm() -> bool (ONE wx.showModal), locate() -> location | throws,
 * chooseVillage(locationError) -> {code} | null, post(body) -> record, pending: {get, set, clear},
 * newId(), deviceId, contactPhone, now().
 * Resolves {status: 'cancelled' | 'sent' | 'no-place' | 'failed', record?, error?, usedVillage?}.
 */
async function runQuickHelp(deps) {
  if (!(await deps.confirm())) return { status: 'cancelled' };
  let body;
  let usedVillage = false;
  const earlier = pendingQuickHelp(deps.pending.get(), deps.now());
  if (earlier) {
    body = earlier.body;
  } else {
    let location = null;
    let locationError = null;
    try {
      location = await deps.locate();
    } catch (e) {
      location = null;
      locationError = e;
    }
    let villageCode = null;
    if (!location) {
      const village = await deps.chooseVillage(locationError);
      if (!village || !village.code) return { status: 'no-place' };
      villageCode = village.code;
      usedVillage = true;
    }
    body = buildQuickHelp({
      clientId: deps.newId(),
      deviceId: deps.deviceId,
      location,
      villageCode,
      contactPhone: deps.contactPhone,
    });
    deps.pending.set({ body, at: deps.now() });
  }
  try {
    const record = await deps.post(body);
    deps.pending.clear();
    return { status: 'sent', record, usedVillage };
  } catch (error) {
    // No answer, 408, 429 or 5xx: the server may have it, so the next press resends it as it
    // was (same client_id); only a definite refusal (another 4xx) needs a fresh request.
    if (!isOutcomeUnknown(error)) deps.pending.clear();
    return { status: 'failed', error, usedVillage };
  }
}

function sentMessage(record) {
  const where = record && record.township && record.township.name ? `${record.township.name}窗口` : '救助窗口';
  const number = record && record.number ? `，编号 ${record.number}` : '';
  return `求助已经送到${where}${number}。工作人员会尽快联系您，请保持电话畅通。`;
}

module.exports = { SERVICES, QUICK_CONFIRM, buildQuickHelp, pendingQuickHelp, runQuickHelp, sentMessage, PENDING_TTL_MS };
