// 网格员上报: the report form, its checks and the POST /mobile/v1/reports body.
const { checkIdNumber, checkPhone, requireFields } = require('../../utils/validate');
const { isoWithOffset } = require('../../utils/time');

const MAX_PHOTOS = 10;

function initialReport(villages) {
  return {
    name: '',
    phone: '',
    idNumber: '',
    address: '',
    villageIndex: villages && villages.length === 1 ? 0 : -1,
    householdSize: '',
    hardship: [],
    description: '',
    urgent: false,
    photos: [],
    location: null,
  };
}

// Errors keyed by the body path (subject.name, hardship, ...).
function validateReport(form, villages, today) {
  const values = { subject: { name: form.name }, hardship: form.hardship, description: form.description };
  const errors = requireFields(values, ['subject.name', 'hardship', 'description']);
  if (form.phone) {
    const p = checkPhone(form.phone);
    if (!p.ok) errors['subject.phone'] = p.message;
  }
  if (form.idNumber) {
    const r = checkIdNumber(form.idNumber, today);
    if (!r.ok) errors['subject.id_number'] = r.message;
  }
  if (String(form.householdSize || '').trim()) {
    const n = Number(form.householdSize);
    if (!/^\d+$/.test(String(form.householdSize).trim()) || n < 1 || n > 30) errors['subject.household_size'] = '家庭人数请填 1 到 30';
  }
  const village = villages && villages[form.villageIndex];
  if (!form.location && !village) errors.location = '没有定位时，请选择所在村（社区）';
  if (String(form.description || '').length > 2000) errors.description = '情况说明最多 2000 字';
  if ((form.photos || []).length > MAX_PHOTOS) errors.photos = `照片最多 ${MAX_PHOTOS} 张`;
  return errors;
}

/**
 * The report as sent (and as kept in the offline queue): observed_at is when the worker wrote
 * it, with the phone's offset, not when the signal came back. observedAt (the queued body's
 * observed_at) is kept as it is when a queued report is corrected.
 */
function buildReportBody(form, {
  clientId, villages, now, today, observedAt,
}) {
  const subject = { name: String(form.name).trim() };
  const phone = form.phone ? checkPhone(form.phone) : null;
  if (phone && phone.ok) subject.phone = phone.value;
  const id = form.idNumber ? checkIdNumber(form.idNumber, today) : null;
  if (id && id.ok) subject.id_number = id.value;
  if (String(form.address || '').trim()) subject.address = String(form.address).trim();
  const village = villages && villages[form.villageIndex];
  if (village) subject.village_code = village.code;
  if (String(form.householdSize || '').trim()) subject.household_size = Number(form.householdSize);
  const body = {
    client_id: clientId,
    subject,
    hardship: form.hardship.slice(),
    description: String(form.description).trim(),
    urgent: !!form.urgent,
    observed_at: observedAt || isoWithOffset(now),
  };
  if (form.location) body.location = Object.assign({}, form.location, { coord_type: 'gcj02' });
  return body;
}

// A queued body back into the form (to correct a refused report).
function formFromBody(body, photos, villages) {
  const s = body.subject || {};
  const index = (villages || []).findIndex((v) => v.code === s.village_code);
  return {
    name: s.name || '',
    phone: s.phone || '',
    idNumber: s.id_number || '',
    address: s.address || '',
    villageIndex: index,
    householdSize: s.household_size ? String(s.household_size) : '',
    hardship: (body.hardship || []).slice(),
    description: body.description || '',
    urgent: !!body.urgent,
    photos: (photos || []).map((p) => ({ path: p.path, client_photo_id: p.client_photo_id })),
    location: body.location || null,
  };
}

module.exports = { MAX_PHOTOS, initialReport, validateReport, buildReportBody, formFromBody };
