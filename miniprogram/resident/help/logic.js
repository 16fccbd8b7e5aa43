// 求助 page logic: the form, its checks, and the POST /mp/v1/help-requests body.
const { checkPhone, requireFields } = require('../../utils/validate');

const MAX_PHOTOS = 6;
const MAX_RELATION = 32;
const MAX_DESCRIPTION = 1000;
// A send whose outcome is unknown is kept (in storage) this long: the same content sent again
// within it reuses its client_id, so the server answers with the first record.
const PENDING_TTL_MS = 24 * 60 * 60 * 1000;

function initialForm(saved) {
  const s = saved || {};
  return {
    forSelf: true,
    subjectName: '',
    subjectPhone: '',
    relation: '',
    address: '',
    hardship: [],
    description: '',
    urgent: false,
    contactPhone: s.contactPhone || '',
    photos: [],
    location: null, // {lat, lng, coord_type: 'gcj02', accuracy_m?}
    locationText: '',
    village: s.lastVillage || null, // {code, name}
    useVillage: false,
  };
}

/**
 * Errors keyed by the body path the server would use (subject.name, contact_phone, ...).
 * hasBoundPhone: the resident's WeChat phone is bound, so contact_phone may be left empty.
 */
function validateHelp(form, { hasBoundPhone } = {}) {
  const errors = {};
  if (!form.forSelf) Object.assign(errors, requireFields({ subject: { name: form.subjectName } }, ['subject.name']));
  if (!form.location && !(form.village && form.village.code)) {
    errors.location = '请允许获取位置，或选择所在村（社区）';
  }
  if (form.contactPhone) {
    const p = checkPhone(form.contactPhone);
    if (!p.ok) errors.contact_phone = p.message;
  } else if (!hasBoundPhone) {
    errors.contact_phone = form.forSelf
      ? '请留一个联系电话，或点「用微信手机号」'
      : '请留下您自己的联系电话，窗口好联系您';
  }
  if (!form.forSelf && form.subjectPhone) {
    const p = checkPhone(form.subjectPhone);
    if (!p.ok) errors['subject.phone'] = p.message;
  }
  if (form.relation && form.relation.length > MAX_RELATION) errors.relation = `关系最多 ${MAX_RELATION} 个字`;
  if (form.description && form.description.length > MAX_DESCRIPTION) errors.description = `情况说明最多 ${MAX_DESCRIPTION} 个字`;
  if ((form.photos || []).length > MAX_PHOTOS) errors.photos = `照片最多 ${MAX_PHOTOS} 张`;
  return errors;
}

function trimmed(s) {
  return String(s || '').trim();
}

// The body; location wins over the village when both are known.
function buildHelpBody(form, { clientId, deviceId }) {
  const body = {
    client_id: clientId,
    device_id: deviceId,
    for_self: !!form.forSelf,
    quick: false,
    hardship: (form.hardship || []).slice(),
    description: trimmed(form.description),
    urgent: !!form.urgent,
  };
  const subject = {};
  if (!form.forSelf) {
    subject.name = trimmed(form.subjectName);
    const sp = form.subjectPhone ? checkPhone(form.subjectPhone) : null;
    if (sp && sp.ok) subject.phone = sp.value;
    if (trimmed(form.relation)) body.relation = trimmed(form.relation);
  }
  if (trimmed(form.address)) subject.address = trimmed(form.address);
  if (form.location && !form.useVillage) {
    body.location = Object.assign({}, form.location, { coord_type: 'gcj02' });
  } else if (form.village && form.village.code) {
    subject.village_code = form.village.code;
  }
  if (Object.keys(subject).length) body.subject = subject;
  const cp = form.contactPhone ? checkPhone(form.contactPhone) : null;
  if (cp && cp.ok) body.contact_phone = cp.value;
  return body;
}

function sameContent(a, b) {
  const strip = (x) => JSON.stringify(Object.assign({}, x, { client_id: null }));
  return strip(a) === strip(b);
}

/**
 * The client_id for this submit: the one of the last unanswered send if the content is the same
 * (a replay, so no second record), else a new one.
 */
function clientIdFor(body, lastUnanswered, newId) {
  if (lastUnanswered && sameContent(lastUnanswered, body)) return lastUnanswered.client_id;
  return newId();
}

// The stored {body, at} of the last send whose outcome is unknown, if recent enough; its body.
function pendingHelp(stored, nowMs) {
  if (!stored || !stored.body || !stored.body.client_id || typeof stored.at !== 'number') return null;
  return nowMs - stored.at < PENDING_TTL_MS ? stored.body : null;
}

module.exports = {
  MAX_PHOTOS, PENDING_TTL_MS, initialForm, validateHelp, buildHelpBody, clientIdFor, sameContent, pendingHelp,
};
