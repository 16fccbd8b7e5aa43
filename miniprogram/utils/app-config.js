// GET /mp/v1/config (no login needed), cached; the built-in lists when the server can't be reached.
const { STORAGE } = require('./config');

const FALLBACK = {
  hardship_tags: [
    { key: 'no_income', label: '无收入来源' },
    { key: 'serious_illness', label: '重病' },
    { key: 'disability', label: '残疾' },
    { key: 'elderly_alone', label: '独居老人' },
    { key: 'left_behind_child', label: '留守儿童' },
    { key: 'no_housing', label: '无房或住房危险' },
    { key: 'disaster', label: '遭受灾害' },
    { key: 'unemployment', label: '失业' },
    { key: 'medical_expense', label: '医疗支出大' },
    { key: 'education_expense', label: '教育支出大' },
    { key: 'other', label: '其他' },
  ],
  categories: [
    { key: 'dibao', label: '最低生活保障' },
    { key: 'tekun', label: '特困人员供养' },
    { key: 'linshi', label: '临时救助' },
    { key: 'yiliao', label: '医疗救助' },
    { key: 'jiaoyu', label: '教育救助' },
    { key: 'zhufang', label: '住房救助' },
    { key: 'jiuye', label: '就业救助' },
    { key: 'shouzai', label: '受灾人员救助' },
  ],
  relations: [
    { key: 'self', label: '本人' },
    { key: 'spouse', label: '配偶' },
    { key: 'child', label: '子女' },
    { key: 'parent', label: '父母' },
    { key: 'grandparent', label: '祖父母/外祖父母' },
    { key: 'grandchild', label: '孙子女/外孙子女' },
    { key: 'sibling', label: '兄弟姐妹' },
    { key: 'other', label: '其他' },
  ],
  subscribe_templates: { status: null },
  max_photos: { help: 6, application: 10 },
  max_photo_mb: 15,
};

function nonEmptyList(v) {
  return Array.isArray(v) && v.length > 0 && v.every((t) => t && t.key && t.label);
}

// The server's config with any missing or malformed part taken from FALLBACK.
function normalize(raw) {
  const c = raw && typeof raw === 'object' ? raw : {};
  return {
    hardship_tags: nonEmptyList(c.hardship_tags) ? c.hardship_tags : FALLBACK.hardship_tags,
    categories: nonEmptyList(c.categories) ? c.categories : FALLBACK.categories,
    relations: nonEmptyList(c.relations) ? c.relations : FALLBACK.relations,
    subscribe_templates: Object.assign({}, FALLBACK.subscribe_templates, c.subscribe_templates || {}),
    max_photos: Object.assign({}, FALLBACK.max_photos, c.max_photos || {}),
    max_photo_mb: c.max_photo_mb || FALLBACK.max_photo_mb,
  };
}

let memo = null;

function cached() {
  return memo || normalize(wx.getStorageSync(STORAGE.appConfig) || null);
}

// The config, fetched once per launch; falls back to the last copy, then to FALLBACK.
async function loadConfig(client) {
  if (memo) return memo;
  try {
    const data = await client.get('/config', null, { auth: false, showError: false, retries: 1 });
    memo = normalize(data);
    wx.setStorageSync(STORAGE.appConfig, memo);
    return memo;
  } catch (e) {
    return cached();
  }
}

function resetConfigCache() {
  memo = null;
}

module.exports = { FALLBACK, normalize, loadConfig, cached, resetConfigCache };
