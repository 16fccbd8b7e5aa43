// The one wrapper every HTTP call goes through: base URL, bearer token, refresh-on-401 once,
// bounded retry of network failures with the same bytes, and problem+json turned into an Error
// whose message is the server's Chinese sentence (shown to the person as it is).
const config = require('./config');

// Statuses a retry may cure: the gateway or the server was briefly unavailable.
const TRANSIENT_STATUSES = [502, 503, 504];

const STATUS_MESSAGES = {
  400: '提交的内容有误，请检查后再试',
  401: '登录已过期，请重新登录',
  403: '没有权限进行这个操作',
  404: '没有找到这条记录',
  408: '网络太慢，请稍后再试',
  409: '这份内容已经提交过了，请到「我的」里查看',
  413: '照片太大了，每张不能超过 15 MB',
  415: '照片格式不支持，请选择 JPG 或 PNG 照片',
  422: '填写的内容有误，请检查后再试',
  429: '操作太频繁了，请过一会儿再试',
};
const SERVER_MESSAGE = '服务暂时不可用，请稍后再试';
const NETWORK_MESSAGE = '网络连接失败，请检查网络后再试';

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// wx.uploadFile always answers a string, wx.request may too: parse JSON when it is JSON.
function parseBody(data) {
  if (typeof data !== 'string') return data;
  const text = data.trim();
  if (!text || (text[0] !== '{' && text[0] !== '[')) return data;
  try {
    return JSON.parse(text);
  } catch (e) {
    return data;
  }
}

function headerValue(header, name) {
  if (!header) return undefined;
  const wanted = name.toLowerCase();
  const key = Object.keys(header).find((k) => k.toLowerCase() === wanted);
  return key ? header[key] : undefined;
}

// The RFC 9457 document in a response, or null.
function problemOf(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  if (typeof body.title !== 'string' && typeof body.detail !== 'string') return null;
  return body;
}

// After a record-creating call failed: could the server have stored it? A lost answer, a
// timeout (408), a rate limit answered by a proxy (429) or a server error (5xx) leaves the outcome
// unknown, so the client_id must be kept and the same body sent again (a replay answers 200).
// Only a 2xx or a definite 4xx refusal settles it.
function isOutcomeUnknown(err) {
  if (!err) return false;
  if (err.network || !err.status) return true;
  return err.status === 408 || err.status === 429 || err.status >= 500;
}

function isTokenExpired(problem) {
  return !!(problem && typeof problem.type === 'string' && /token-expired$/.test(problem.type));
}

// {"applicant.id_number": "身份证号码不正确"} from problem.errors.
function fieldErrorsOf(problem) {
  const out = {};
  if (problem && Array.isArray(problem.errors)) {
    problem.errors.forEach((e) => {
      if (e && e.field && !out[e.field]) out[e.field] = e.message;
    });
  }
  return out;
}

function messageFor(status, problem) {
  if (problem) return problem.detail || problem.title;
  if (status >= 500) return SERVER_MESSAGE;
  return STATUS_MESSAGES[status] || '操作没有成功，请稍后再试';
}

function httpError(res, extra) {
  const body = parseBody(res.data);
  const problem = problemOf(body);
  const err = new Error(messageFor(res.statusCode, problem));
  err.status = res.statusCode;
  err.problem = problem;
  err.fieldErrors = fieldErrorsOf(problem);
  err.retryAfter = headerValue(res.header, 'Retry-After');
  err.network = false;
  return Object.assign(err, extra || {});
}

function networkError(wxErr) {
  const err = new Error(NETWORK_MESSAGE);
  err.network = true;
  err.status = 0;
  err.problem = null;
  err.fieldErrors = {};
  err.errMsg = (wxErr && wxErr.errMsg) || String(wxErr);
  return err;
}

// Show an error the way an elderly person can read it: a modal that stays for the server's
// sentence, a toast for "no network".
function showError(err, mode) {
  if (mode === false || !err) return;
  if (err.network || mode === 'toast') {
    wx.showToast({ title: err.message, icon: 'none', duration: 3000 });
    return;
  }
  const title = err.problem && err.problem.title && err.problem.title !== err.message
    ? err.problem.title
    : '提示';
  wx.showModal({ title, content: err.message, showCancel: false, confirmText: '知道了' });
}

function queryString(query) {
  if (!query) return '';
  const parts = Object.keys(query)
    .filter((k) => query[k] !== undefined && query[k] !== null && query[k] !== '')
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query[k])}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * A client for one API (resident /mp/v1 or grid worker /mobile/v1), each with its own token key.
 * options: prefix, tokenKey, refreshPath, relogin (async () => bool: a silent new login, for
 * residents through wx.login), retries, retryDelayMs, baseUrl (function or string).
 */
function createClient(options) {
  const prefix = options.prefix;
  const tokenKey = options.tokenKey;
  const refreshPath = options.refreshPath || '/auth/refresh';
  let refreshing = null;
  let relogging = null;
  // A silent login answered 403 (account-disabled): no more automatic logins this session.
  let reloginRefused = null;

  function base() {
    const b = options.baseUrl;
    if (typeof b === 'function') return b();
    return b || config.baseUrl();
  }

  function url(path, query) {
    return `${base()}${prefix}${path}${queryString(query)}`;
  }

  function readTokens() {
    return wx.getStorageSync(tokenKey) || null;
  }

  function accessToken() {
    const t = readTokens();
    return (t && t.access_token) || '';
  }

  function saveTokens(body) {
    wx.setStorageSync(tokenKey, {
      access_token: body.access_token,
      refresh_token: body.refresh_token,
      expires_at: body.expires_in ? Date.now() + body.expires_in * 1000 : null,
    });
  }

  function clearTokens() {
    wx.removeStorageSync(tokenKey);
  }

  function retryPolicy(o) {
    return {
      retries: o.retries !== undefined ? o.retries : (options.retries !== undefined ? options.retries : config.RETRY.attempts),
      delay: options.retryDelayMs !== undefined ? options.retryDelayMs : config.RETRY.baseDelayMs,
    };
  }

  // One raw wx.request; resolves with the wx response, rejects only on a network failure.
  function wxRequest(o, header, body) {
    return new Promise((resolve, reject) => {
      wx.request({
        url: url(o.path, o.query),
        method: o.method || 'GET',
        header,
        data: body,
        dataType: 'json',
        timeout: o.timeout || config.TIMEOUT_MS,
        success: resolve,
        fail: (e) => reject(networkError(e)),
      });
    });
  }

  function wxUpload(o, header) {
    return new Promise((resolve, reject) => {
      wx.uploadFile({
        url: url(o.path, o.query),
        filePath: o.filePath,
        name: o.name || 'file',
        formData: o.formData || {},
        header,
        timeout: o.timeout || config.UPLOAD_TIMEOUT_MS,
        success: resolve,
        fail: (e) => reject(networkError(e)),
      });
    });
  }

  // Retries a network failure (and a 502/503/504) a bounded number of times with a growing
  // pause; `attempt` is called again unchanged, so the bytes on the wire are the same.
  async function withRetry(attempt, policy) {
    for (let i = 0; ; i += 1) {
      try {
        const res = await attempt();
        if (TRANSIENT_STATUSES.indexOf(res.statusCode) < 0 || i >= policy.retries) return res;
      } catch (err) {
        if (!err.network || i >= policy.retries) throw err;
      }
      await sleep(policy.delay * 2 ** i);
    }
  }

  // Resolves true (new tokens stored) or false (the refresh token was refused: tokens cleared).
  // A refresh that got no answer (network) or a server error rejects with that error and keeps
  // the tokens: nothing says the login is over, so the person is not sent to log in again.
  function refreshOnce() {
    if (!refreshing) {
      refreshing = (async () => {
        const tokens = readTokens();
        if (!tokens || !tokens.refresh_token) return false;
        const res = await wxRequest(
          { method: 'POST', path: refreshPath },
          { 'content-type': 'application/json' },
          JSON.stringify({ refresh_token: tokens.refresh_token }),
        ); // a network failure rejects here, tokens untouched
        if (res.statusCode >= 200 && res.statusCode < 300) {
          saveTokens(parseBody(res.data));
          return true;
        }
        if (res.statusCode >= 500) throw httpError(res);
        clearTokens();
        return false;
      })();
      const done = () => { refreshing = null; };
      refreshing.then(done, done);
    }
    return refreshing;
  }

  // A copy of the remembered refusal, so each caller gets its own Error to show.
  function refusedError() {
    return Object.assign(new Error(reloginRefused.message), reloginRefused, { reloginRefused: true });
  }

  // Resolves true when a silent login stored new tokens, false when there is none or it failed
  // for a passing reason; rejects with the server's 403 (account disabled), which is remembered:
  // later calls reject at once instead of logging in again on every tap.
  function reloginOnce() {
    if (!options.relogin) return Promise.resolve(false);
    if (reloginRefused) return Promise.reject(refusedError());
    if (!relogging) {
      relogging = Promise.resolve()
        .then(() => options.relogin())
        .then((ok) => !!ok, (err) => {
          if (err && err.status === 403) {
            reloginRefused = err;
            throw refusedError();
          }
          return false;
        });
      const done = () => { relogging = null; };
      relogging.then(done, done);
    }
    return relogging;
  }

  // The shared rules for wx.request and wx.uploadFile.
  async function perform(o, send) {
    const useAuth = o.auth !== false;
    if (useAuth && !accessToken()) await reloginOnce();
    let recovered = false;
    for (;;) {
      const token = useAuth ? accessToken() : '';
      const header = Object.assign({}, o.header || {});
      if (token) header.Authorization = `Bearer ${token}`;
      const res = await withRetry(() => send(header), retryPolicy(o));
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        return { status, data: parseBody(res.data), header: res.header || {} };
      }
      if (status === 401 && useAuth && !recovered) {
        // Call refresh once, then retry the request once; any other 401 means a new login.
        recovered = true;
        const problem = problemOf(parseBody(res.data));
        if (token && accessToken() && accessToken() !== token) continue; // refreshed meanwhile
        if (isTokenExpired(problem) && (await refreshOnce())) continue;
        if (await reloginOnce()) continue;
      }
      if (status === 401 && useAuth) {
        clearTokens();
        throw httpError(res, { loginRequired: true });
      }
      throw httpError(res);
    }
  }

  // {status, data, header}; errors are thrown (and shown unless showError: false).
  async function send(o) {
    // Serialised once: every retry sends exactly these bytes, client_id included.
    const body = o.data === undefined ? undefined : JSON.stringify(o.data);
    const header = Object.assign({ 'content-type': 'application/json' }, o.header || {});
    try {
      return await perform(Object.assign({}, o, { header }), (h) => wxRequest(o, h, body));
    } catch (err) {
      showError(err, o.showError);
      throw err;
    }
  }

  // One file as multipart (field `file` by default) with formData such as client_photo_id.
  async function upload(o) {
    try {
      return await perform(o, (h) => wxUpload(o, h));
    } catch (err) {
      showError(err, o.showError);
      throw err;
    }
  }

  return {
    send,
    upload,
    get: (path, query, o) => send(Object.assign({ method: 'GET', path, query }, o || {})).then((r) => r.data),
    post: (path, data, o) => send(Object.assign({ method: 'POST', path, data }, o || {})).then((r) => r.data),
    saveTokens,
    clearTokens,
    accessToken,
    hasLogin: () => !!accessToken(),
    // The silent login (residents), shared with the one a request would start; see reloginOnce.
    relogin: reloginOnce,
  };
}

module.exports = {
  createClient,
  parseBody,
  problemOf,
  fieldErrorsOf,
  isTokenExpired,
  isOutcomeUnknown,
  showError,
  queryString,
  NETWORK_MESSAGE,
};
