// Where the mini-program talks to, and the names it keeps in storage.
// The develop build (WeChat devtools) talks to a local `make run`; trial and release builds talk
// to the production host, which must be on the request and uploadFile domain whitelists in the
// mp console (https only, no port other than 443).

const BASE_URLS = {
  develop: 'http://127.0.0.1:8000',
  trial: 'https://yimen.example.org',
  release: 'https://yimen.example.org',
};

const STORAGE = {
  residentAuth: 'yimen:resident:auth',
  residentProfile: 'yimen:resident:profile',
  contactPhone: 'yimen:resident:contact-phone',
  lastVillage: 'yimen:resident:last-village',
  quickHelpPending: 'yimen:resident:quick-help-pending',
  helpPending: 'yimen:resident:help-pending',
  appConfig: 'yimen:config',
  workerAuth: 'yimen:worker:auth',
  workerProfile: 'yimen:worker:profile',
  workerQueue: 'yimen:worker:queue',
  deviceId: 'yimen:device-id',
  largeText: 'yimen:a11y:large-text',
};

const APIS = {
  resident: { prefix: '/mp/v1', tokenKey: STORAGE.residentAuth },
  worker: { prefix: '/mobile/v1', tokenKey: STORAGE.workerAuth },
};

// Network failures are retried with the very same body (and so the same client_id), which the
// server answers as a replay; a few tries with a growing pause is enough on a weak signal.
const RETRY = { attempts: 2, baseDelayMs: 800 };

const TIMEOUT_MS = 20000;
const UPLOAD_TIMEOUT_MS = 60000;

function envVersion() {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion || 'release';
  } catch (e) {
    return 'release';
  }
}

function baseUrl() {
  return BASE_URLS[envVersion()] || BASE_URLS.release;
}

module.exports = { BASE_URLS, STORAGE, APIS, RETRY, TIMEOUT_MS, UPLOAD_TIMEOUT_MS, baseUrl, envVersion };
