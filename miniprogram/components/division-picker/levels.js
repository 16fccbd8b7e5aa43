// Division levels from province down to village, and what to ask at each.
const LEVELS = ['province', 'city', 'county', 'township', 'village'];

const PROMPTS = {
  province: '请选择省（自治区、直辖市）',
  city: '请选择市（州）',
  county: '请选择县（区、市）',
  township: '请选择乡镇（街道）',
  village: '请选择村（社区）',
};

// The level below `level` ('' at the top).
function childLevel(level) {
  if (!level) return LEVELS[0];
  const i = LEVELS.indexOf(level);
  return i >= 0 && i < LEVELS.length - 1 ? LEVELS[i + 1] : '';
}

function isLeaf(level, leafLevel) {
  const i = LEVELS.indexOf(level);
  const leaf = LEVELS.indexOf(leafLevel || 'village');
  return i >= 0 && i >= leaf;
}

module.exports = { LEVELS, PROMPTS, childLevel, isLeaf };
