// 找窗口: which township window serves me, by location or by the township I pick.

// The query of GET /mp/v1/windows/mine.
function windowQuery({ location, townshipCode }) {
  if (townshipCode) return { township_code: townshipCode };
  if (location) return { lat: location.lat, lng: location.lng, coord_type: location.coord_type || 'gcj02' };
  return null;
}

function list(v) {
  return Array.isArray(v) ? v.filter((x) => x !== null && x !== undefined && x !== '').map(String) : [];
}

function windowView(w) {
  const loc = w.location;
  const canNavigate = !!(loc && typeof loc.lat === 'number' && typeof loc.lng === 'number' && (loc.coord_type || 'gcj02') === 'gcj02');
  return {
    township: (w.township && w.township.name) || '',
    name: w.name || '',
    address: w.address || '',
    hours: w.opening_hours || '',
    phone: w.phone || '',
    complaintPhone: w.complaint_phone || '',
    policies: list(w.policies),
    duties: list(w.duties),
    canNavigate,
  };
}

// wx.openLocation wants GCJ-02, which is what the server gives.
function openLocationArgs(w) {
  const loc = w.location;
  return {
    latitude: loc.lat,
    longitude: loc.lng,
    name: w.name || '',
    address: w.address || '',
    scale: 16,
  };
}

module.exports = { windowQuery, windowView, openLocationArgs };
