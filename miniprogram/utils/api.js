// The two API clients, each with its own token in storage.
const { APIS } = require('./config');
const { createClient } = require('./request');
const auth = require('./auth');

const resident = createClient({
  prefix: APIS.resident.prefix,
  tokenKey: APIS.resident.tokenKey,
  // Residents log in silently with wx.login, so "log in again" needs no screen.
  relogin: () => auth.loginResident(resident),
});

const worker = createClient({
  prefix: APIS.worker.prefix,
  tokenKey: APIS.worker.tokenKey,
});

module.exports = { resident, worker };
