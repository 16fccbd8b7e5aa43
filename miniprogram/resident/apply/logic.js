// 申请救助 page logic: the form, household members, checks (ID numbers with their check digit,
// the consent to the household economic check) and the POST /mp/v1/applications body.
const {
  checkIdNumber, checkPhone, checkYuan, checkCount, requireFields,
} = require('../../utils/validate');

const MAX_MEMBERS = 20;
const MAX_PHOTOS = 10;
const MAX_REASON = 1000;
// The server's limit (AssetsIn house_count / car_count, le=50).
const MAX_ASSET_COUNT = 50;

const CONSENT_TEXT = '本人自愿申请社会救助，承诺所填内容真实。本人及共同生活的家庭成员授权民政部门核对家庭经济状况'
  + '（收入、存款、房产、车辆、社保等），核对结果只用于审核救助。';

function emptyMember() {
  return { name: '', id_number: '', relation: '' };
}

function initialForm() {
  return {
    category: '',
    onBehalf: false,
    applicant: { name: '', id_number: '', phone: '' },
    members: [],
    income: '',
    houseCount: '',
    carCount: '',
    savings: '',
    assetsNote: '',
    reason: '',
    photos: [],
    hukouVillage: null, // {code, name}
    consent: false,
    signedName: '',
  };
}

// Household members are edited as a list: these return a new list, never change the old one.
function addMember(members) {
  if (members.length >= MAX_MEMBERS) return members;
  return members.concat([emptyMember()]);
}

function removeMember(members, index) {
  return members.filter((_, i) => i !== index);
}

function updateMember(members, index, field, value) {
  return members.map((m, i) => (i === index ? Object.assign({}, m, { [field]: value }) : m));
}

/**
 * Whether the 提交 button may be pressed: consent ticked and the signature is the applicant's
 * name. {ok, reason} (reason is shown under the disabled button).
 */
function consentState(form) {
  if (!form.consent) return { ok: false, reason: '请先勾选「授权家庭经济状况核对」，才能提交' };
  const name = String(form.applicant.name || '').trim();
  const signed = String(form.signedName || '').trim();
  if (!signed) return { ok: false, reason: '请在签名处写上申请人姓名' };
  if (!name || signed !== name) return { ok: false, reason: '签名要和申请人姓名一样' };
  return { ok: true, reason: '' };
}

/**
 * Every problem with the form, keyed by the body path the server uses
 * (applicant.id_number, members.1.id_number, consent.economic_check ...).
 */
function validateApplication(form, today) {
  const values = {
    category: form.category,
    applicant: form.applicant,
    hukou_village_code: form.hukouVillage && form.hukouVillage.code,
    consent: { signed_name: form.signedName },
  };
  const errors = requireFields(values, ['category', 'applicant.name', 'applicant.phone', 'hukou_village_code']);

  const seen = {};
  const idCheck = (raw, field) => {
    const r = checkIdNumber(raw, today);
    if (!r.ok) {
      errors[field] = r.message;
      return;
    }
    if (seen[r.value]) errors[field] = `这个身份证号码和${seen[r.value]}的重复了`;
    else seen[r.value] = field === 'applicant.id_number' ? '申请人' : `第${Number(field.split('.')[1]) + 1}位家庭成员`;
  };
  idCheck(form.applicant.id_number, 'applicant.id_number');

  if (form.applicant.phone) {
    const p = checkPhone(form.applicant.phone);
    if (!p.ok) errors['applicant.phone'] = p.message;
  }

  if (form.members.length > MAX_MEMBERS) errors.members = `家庭成员最多 ${MAX_MEMBERS} 人`;
  form.members.forEach((m, i) => {
    if (!String(m.name || '').trim()) errors[`members.${i}.name`] = '请填写家庭成员姓名';
    if (!m.relation) errors[`members.${i}.relation`] = '请选择与申请人的关系';
    idCheck(m.id_number, `members.${i}.id_number`);
  });

  const income = checkYuan(form.income);
  if (!income.ok) errors.income_monthly_yuan = income.message;
  if (String(form.savings || '').trim()) {
    const savings = checkYuan(form.savings);
    if (!savings.ok) errors['assets.savings_yuan'] = savings.message;
  }
  const houses = checkCount(form.houseCount, MAX_ASSET_COUNT);
  if (!houses.ok) errors['assets.house_count'] = houses.message;
  const cars = checkCount(form.carCount, MAX_ASSET_COUNT);
  if (!cars.ok) errors['assets.car_count'] = cars.message;
  if (String(form.reason || '').length > MAX_REASON) errors.reason = `申请理由最多 ${MAX_REASON} 个字`;
  if ((form.photos || []).length > MAX_PHOTOS) errors.photos = `材料照片最多 ${MAX_PHOTOS} 张`;

  const consent = consentState(form);
  if (!form.consent) errors['consent.economic_check'] = consent.reason;
  else if (!consent.ok) errors['consent.signed_name'] = consent.reason;
  return errors;
}

// The body, with ID numbers normalised to 18 characters (15-digit ones converted).
function buildApplicationBody(form, { clientId, deviceId, today }) {
  const id = (raw) => {
    const r = checkIdNumber(raw, today);
    return r.ok ? r.value : String(raw || '').trim();
  };
  const phone = checkPhone(form.applicant.phone);
  const assets = {
    house_count: checkCount(form.houseCount, MAX_ASSET_COUNT).value || 0,
    car_count: checkCount(form.carCount, MAX_ASSET_COUNT).value || 0,
  };
  // Blank savings means "not said", which is not 0 yuan: the field is left out.
  if (String(form.savings || '').trim()) {
    const savings = checkYuan(form.savings);
    if (savings.ok) assets.savings_yuan = savings.value;
  }
  if (String(form.assetsNote || '').trim()) assets.note = String(form.assetsNote).trim();
  const body = {
    client_id: clientId,
    device_id: deviceId,
    category: form.category,
    on_behalf: !!form.onBehalf,
    applicant: {
      name: String(form.applicant.name || '').trim(),
      id_number: id(form.applicant.id_number),
      phone: phone.ok ? phone.value : String(form.applicant.phone || '').trim(),
    },
    members: form.members.map((m) => ({ name: String(m.name || '').trim(), id_number: id(m.id_number), relation: m.relation })),
    income_monthly_yuan: checkYuan(form.income).value,
    assets,
    hukou_village_code: form.hukouVillage && form.hukouVillage.code,
    reason: String(form.reason || '').trim(),
    consent: { economic_check: form.consent === true, signed_name: String(form.signedName || '').trim() },
  };
  return body;
}

/**
 * What a page may send: {ok: true, body} or {ok: false, errors}. Nothing is sent without
 * consent, whatever the button's state.
 */
function prepareApplication(form, ctx) {
  const errors = validateApplication(form, ctx.today);
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, body: buildApplicationBody(form, ctx) };
}

// Errors of each household member, for the WXML: [{name, id_number, relation}].
function memberErrors(errors, count) {
  const out = [];
  for (let i = 0; i < count; i += 1) {
    out.push({
      name: errors[`members.${i}.name`] || '',
      id_number: errors[`members.${i}.id_number`] || '',
      relation: errors[`members.${i}.relation`] || '',
    });
  }
  return out;
}

// A hint under an ID field: the 18-character form when an old 15-digit number was typed.
function idHint(raw, today) {
  const r = checkIdNumber(raw, today);
  return r.ok && r.converted ? `已按新证号码提交：${r.value}` : '';
}

module.exports = {
  MAX_MEMBERS,
  MAX_PHOTOS,
  MAX_ASSET_COUNT,
  CONSENT_TEXT,
  initialForm,
  emptyMember,
  addMember,
  removeMember,
  updateMember,
  consentState,
  validateApplication,
  buildApplicationBody,
  prepareApplication,
  memberErrors,
  idHint,
};
