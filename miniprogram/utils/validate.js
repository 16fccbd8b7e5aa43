// Form checks done on the phone before sending (the server checks again): resident ID numbers
// (GB 11643), phone numbers, money, and required fields with Chinese messages keyed by field.

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK_CHARS = '10X98765432';

// Province codes that appear in resident ID numbers (the first two digits); 81, 82 and 83 are
// the residence permits of Hong Kong, Macau and Taiwan residents (港澳台居民居住证).
const PROVINCES = [
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
  53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

// The check character for the first 17 digits.
function idCheckChar(body17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(body17[i]) * ID_WEIGHTS[i];
  return ID_CHECK_CHARS[sum % 11];
}

// First-generation 15-digit number -> 18: insert the century "19" and compute the check char.
function convert15To18(id15) {
  const body = `${id15.slice(0, 6)}19${id15.slice(6)}`;
  return body + idCheckChar(body);
}

function isValidDate(year, month, day, today) {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    return false;
  }
  if (year < 1900) return false;
  const now = today || new Date();
  return d.getTime() <= Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
}

// The birth date inside an 18-character number, or null when it is not a real past date.
function birthDateOf(id18, today) {
  const y = Number(id18.slice(6, 10));
  const m = Number(id18.slice(10, 12));
  const d = Number(id18.slice(12, 14));
  return isValidDate(y, m, d, today) ? { year: y, month: m, day: d } : null;
}

/**
 * Checks a resident ID number. Returns {ok: true, value: 18 chars, converted} or
 * {ok: false, message}. Spaces are ignored and a lower-case x is accepted.
 */
function checkIdNumber(raw, today) {
  const compact = String(raw || '').replace(/\s+/g, '').toUpperCase();
  if (!compact) return { ok: false, message: '请填写身份证号码' };
  let value = compact;
  let converted = false;
  if (/^\d{15}$/.test(compact)) {
    value = convert15To18(compact);
    converted = true;
  } else if (!/^\d{17}[\dX]$/.test(compact)) {
    return { ok: false, message: '身份证号码应为18位（最后一位可能是X），老证件为15位数字' };
  }
  if (PROVINCES.indexOf(Number(value.slice(0, 2))) < 0) {
    return { ok: false, message: '身份证号码前两位不正确，请核对' };
  }
  if (!birthDateOf(value, today)) {
    return { ok: false, message: '身份证号码中的出生日期不正确，请核对' };
  }
  if (idCheckChar(value.slice(0, 17)) !== value[17]) {
    return { ok: false, message: '身份证号码最后一位（校验码）不对，请核对后重新填写' };
  }
  return { ok: true, value, converted };
}

function compactPhone(raw) {
  let s = String(raw || '').replace(/[\s-]+/g, '');
  if (s.indexOf('+86') === 0) s = s.slice(3);
  return s;
}

function isMobile(raw) {
  return /^1[3-9]\d{9}$/.test(compactPhone(raw));
}

/**
 * A mobile (11 digits starting 1) or a landline with area code (0572-1234567).
 * Returns {ok, value} with the digits only, or {ok: false, message}.
 */
function checkPhone(raw) {
  const s = compactPhone(raw);
  if (!s) return { ok: false, message: '请填写电话号码' };
  if (/^1[3-9]\d{9}$/.test(s) || /^0\d{9,11}$/.test(s)) return { ok: true, value: s };
  return { ok: false, message: '电话号码格式不正确，手机号是11位数字' };
}

/**
 * Money in yuan with at most 2 decimals, not negative. Returns {ok, value} or {ok:false, message}.
 */
function checkYuan(raw) {
  const s = String(raw === undefined || raw === null ? '' : raw).trim();
  if (!s) return { ok: false, message: '请填写金额（没有就填 0）' };
  if (!/^\d+(\.\d{1,2})?$/.test(s)) return { ok: false, message: '金额请填数字，最多两位小数' };
  return { ok: true, value: Number(s) };
}

function checkCount(raw, max) {
  const s = String(raw === undefined || raw === null ? '' : raw).trim();
  if (!s) return { ok: true, value: 0 };
  if (!/^\d+$/.test(s) || Number(s) > max) return { ok: false, message: `请填 0 到 ${max} 之间的整数` };
  return { ok: true, value: Number(s) };
}

// What each field is called on screen, keyed by the same dotted path the server uses in
// problem.errors[].field, so the phone's messages and the server's land in the same place.
const FIELD_LABELS = {
  category: '救助类别',
  'applicant.name': '申请人姓名',
  'applicant.id_number': '申请人身份证号码',
  'applicant.phone': '联系电话',
  'subject.name': '求助对象姓名',
  'subject.phone': '求助对象电话',
  'subject.village_code': '所在村（社区）',
  contact_phone: '联系电话',
  hukou_village_code: '户籍所在村（社区）',
  income_monthly_yuan: '家庭月收入',
  'assets.savings_yuan': '存款',
  'consent.signed_name': '签名',
  description: '情况说明',
  reason: '申请理由',
  hardship: '困难类型',
  username: '账号',
  password: '密码',
};

const CHOICE_FIELDS = ['category', 'hukou_village_code', 'subject.village_code', 'hardship'];

function requiredMessage(field) {
  const label = FIELD_LABELS[field] || '这一项';
  return CHOICE_FIELDS.indexOf(field) >= 0 ? `请选择${label}` : `请填写${label}`;
}

function getPath(obj, path) {
  return String(path).split('.').reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

function isBlank(v) {
  if (v === undefined || v === null) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.length === 0;
  return false;
}

// {field: '请填写…'} for every listed field that is empty in values (dotted paths allowed).
function requireFields(values, fields) {
  const errors = {};
  fields.forEach((f) => {
    if (isBlank(getPath(values, f))) errors[f] = requiredMessage(f);
  });
  return errors;
}

function firstError(errors) {
  const keys = Object.keys(errors || {});
  return keys.length ? errors[keys[0]] : '';
}

module.exports = {
  ID_WEIGHTS,
  ID_CHECK_CHARS,
  idCheckChar,
  convert15To18,
  birthDateOf,
  checkIdNumber,
  checkPhone,
  isMobile,
  checkYuan,
  checkCount,
  FIELD_LABELS,
  requiredMessage,
  requireFields,
  getPath,
  isBlank,
  firstError,
};
