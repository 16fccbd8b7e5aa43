// The install id the server rate-limits by (device_id, 1-64 chars), kept in storage.
const { STORAGE } = require('./config');
const { uuid4 } = require('./uuid');

function getDeviceId() {
  let id = wx.getStorageSync(STORAGE.deviceId);
  if (!id) {
    id = `mp-${uuid4()}`;
    wx.setStorageSync(STORAGE.deviceId, id);
  }
  return id;
}

module.exports = { getDeviceId };
