// Times: ISO 8601 with the phone's offset going out, Asia/Shanghai (UTC+8, no DST) on screen.

function pad(n) {
  return String(n).padStart(2, '0');
}

// "2026-05-01T10:20:30+08:00" for the given instant in the phone's own time zone.
function isoWithOffset(date) {
  const d = date instanceof Date ? date : new Date(date);
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMin);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

function shanghaiParts(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const t = new Date(d.getTime() + 8 * 3600 * 1000);
  return {
    year: t.getUTCFullYear(),
    month: t.getUTCMonth() + 1,
    day: t.getUTCDate(),
    hour: t.getUTCHours(),
    minute: t.getUTCMinutes(),
  };
}

// "2026年5月1日 10:20" in Beijing time, whatever the phone's zone; '' for a bad value.
function formatShanghai(iso) {
  const p = shanghaiParts(iso);
  if (!p) return '';
  return `${p.year}年${p.month}月${p.day}日 ${pad(p.hour)}:${pad(p.minute)}`;
}

module.exports = { isoWithOffset, formatShanghai, shanghaiParts };
