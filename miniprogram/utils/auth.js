// Logins: the resident's silent WeChat login and the grid worker's staff account.
const { STORAGE } = require('./config');

function wxLogin() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res.code ? resolve(res.code) : reject(new Error('微信登录失败，请稍后再试'))),
      fail: () => reject(new Error('微信登录失败，请稍后再试')),
    });
  });
}

// wx.login, then POST /mp/v1/auth/login; a used or stale code (wechat-code-invalid) gets one new
// code. Resolves true once tokens and the resident are stored.
async function loginResident(client) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const code = await wxLogin();
    try {
      const res = await client.send({
        method: 'POST',
        path: '/auth/login',
        data: { code },
        auth: false,
        showError: false,
      });
      client.saveTokens(res.data);
      if (res.data.resident) wx.setStorageSync(STORAGE.residentProfile, res.data.resident);
      return true;
    } catch (err) {
      const codeInvalid = err.status === 401 && err.problem && /wechat-code-invalid$/.test(err.problem.type || '');
      if (!codeInvalid || attempt === 1) throw err;
    }
  }
  return false;
}

function residentProfile() {
  return wx.getStorageSync(STORAGE.residentProfile) || null;
}

// POST /mobile/v1/auth/login with this phone's device id; stores tokens and the worker.
async function loginWorker(client, { username, password, deviceId }) {
  const res = await client.send({
    method: 'POST',
    path: '/auth/login',
    data: { username, password, device_id: deviceId },
    auth: false,
    retries: 0,
    showError: false,
  });
  client.saveTokens(res.data);
  wx.setStorageSync(STORAGE.workerProfile, res.data.worker || null);
  return res.data.worker;
}

function workerProfile() {
  return wx.getStorageSync(STORAGE.workerProfile) || null;
}

async function logoutWorker(client) {
  try {
    await client.send({ method: 'POST', path: '/auth/logout', retries: 0, showError: false });
  } catch (e) {
    // Logging out locally is what matters; the server login expires on its own.
  }
  client.clearTokens();
  wx.removeStorageSync(STORAGE.workerProfile);
}

module.exports = { wxLogin, loginResident, residentProfile, loginWorker, workerProfile, logoutWorker };
