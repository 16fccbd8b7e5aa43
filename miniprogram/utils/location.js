// The phone's position in GCJ-02 (what wx.getLocation({type: 'gcj02'}) gives), with coord_type.
const { isoWithOffset } = require('./time');

// The person (or the phone's settings) said no: the page should offer the village instead.
function isDenied(err) {
  const msg = String((err && err.errMsg) || '');
  return /auth den|authorize|permission|privacy|scope|system permission|locationSwitchOff|user deny/i.test(msg)
    || (err && [103, 104, 112].indexOf(err.errno) >= 0);
}

function toLocation(res, capturedAt) {
  const loc = { lat: res.latitude, lng: res.longitude, coord_type: 'gcj02' };
  const accuracy = typeof res.accuracy === 'number' ? res.accuracy : res.horizontalAccuracy;
  if (typeof accuracy === 'number' && accuracy >= 0) loc.accuracy_m = Math.round(accuracy);
  if (capturedAt) loc.captured_at = isoWithOffset(capturedAt);
  return loc;
}

/**
 * Resolves {lat, lng, coord_type: 'gcj02', accuracy_m}; rejects with an Error whose .denied is
 * true when location was refused (so the page falls back to choosing the village).
 */
function getLocation(options) {
  const o = options || {};
  return new Promise((resolve, reject) => {
    wx.getLocation({
      type: 'gcj02',
      isHighAccuracy: !!o.highAccuracy,
      highAccuracyExpireTime: o.highAccuracy ? 5000 : undefined,
      success: (res) => resolve(toLocation(res, o.withTime ? new Date() : null)),
      fail: (e) => {
        const denied = isDenied(e);
        const err = new Error(denied ? '没有获得位置权限，请选择所在的村（社区）' : '暂时无法定位，请选择所在的村（社区）');
        err.denied = denied;
        err.errMsg = e && e.errMsg;
        reject(err);
      },
    });
  });
}

// A point picked on the map (wx.chooseLocation answers GCJ-02). No accuracy is known for it.
function chooseLocation() {
  return new Promise((resolve, reject) => {
    wx.chooseLocation({
      success: (res) => resolve({
        location: { lat: res.latitude, lng: res.longitude, coord_type: 'gcj02' },
        name: res.name || '',
        address: res.address || '',
      }),
      fail: (e) => reject(Object.assign(new Error('没有选择位置'), { errMsg: e && e.errMsg, denied: isDenied(e) })),
    });
  });
}

const PRIVACY_REFUSED_MESSAGE = '您没有同意隐私保护指引，拿不到您的位置。请选择您所在的村（社区）';

/**
 * Settles the privacy agreement before anything covers the screen: WeChat's privacy pop-up
 * (components/privacy-popup, through wx.onNeedPrivacyAuthorization) must not open under a
 * wx.showLoading mask. Resolves 'agreed' (no pop-up will come), 'ask' (no way to settle it first:
 * call the API without a mask, the pop-up may show) or rejects with .privacyRefused when the
 * person said no.
 */
function ensurePrivacy() {
  return new Promise((resolve, reject) => {
    const refused = (e) => reject(Object.assign(new Error(PRIVACY_REFUSED_MESSAGE), {
      privacyRefused: true, denied: true, errMsg: e && e.errMsg,
    }));
    if (typeof wx.requirePrivacyAuthorize === 'function') {
      wx.requirePrivacyAuthorize({ success: () => resolve('agreed'), fail: refused });
      return;
    }
    if (typeof wx.getPrivacySetting === 'function') {
      wx.getPrivacySetting({
        success: (res) => resolve(res && res.needAuthorization ? 'ask' : 'agreed'),
        fail: () => resolve('ask'),
      });
      return;
    }
    resolve('agreed'); // base library without the privacy check
  });
}

module.exports = {
  getLocation, chooseLocation, isDenied, toLocation, ensurePrivacy, PRIVACY_REFUSED_MESSAGE,
};
