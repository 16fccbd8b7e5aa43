const { installFakeWx, problem } = require('../helpers/fake-wx');
const { createClient } = require('../../utils/request');
const auth = require('../../utils/auth');

const BASE = 'https://api.test';
const RES_KEY = 'yimen:resident:auth';
const WORKER_KEY = 'yimen:worker:auth';

function residentClient(extra) {
  const client = createClient(Object.assign({
    prefix: '/mp/v1', tokenKey: RES_KEY, baseUrl: BASE, retryDelayMs: 0, relogin: () => auth.loginResident(client),
  }, extra || {}));
  return client;
}

function workerClient(extra) {
  return createClient(Object.assign({ prefix: '/mobile/v1', tokenKey: WORKER_KEY, baseUrl: BASE, retryDelayMs: 0 }, extra || {}));
}

const path = (req) => req.url.replace(BASE, '');

let control;
beforeEach(() => {
  control = installFakeWx();
});

describe('token and base URL', () => {
  test('sends the stored bearer token to the API prefix', async () => {
    control.storage.set(RES_KEY, { access_token: 'res-A', refresh_token: 'res-R' });
    control.respond(() => ({ statusCode: 200, data: { ok: 1 } }));
    const data = await residentClient().get('/items', { cursor: 'c 1', limit: 20 });
    expect(data).toEqual({ ok: 1 });
    expect(control.requests[0].url).toBe(`${BASE}/mp/v1/items?cursor=c%201&limit=20`);
    expect(control.requests[0].header.Authorization).toBe('Bearer res-A');
  });

  test('resident and worker tokens live under separate keys', async () => {
    control.storage.set(RES_KEY, { access_token: 'res-A', refresh_token: 'res-R' });
    control.storage.set(WORKER_KEY, { access_token: 'wk-A', refresh_token: 'wk-R' });
    control.respond(() => ({ statusCode: 200, data: {} }));
    await workerClient().get('/reports');
    await residentClient().get('/me');
    expect(control.requests.map((r) => [path(r), r.header.Authorization])).toEqual([
      ['/mobile/v1/reports', 'Bearer wk-A'],
      ['/mp/v1/me', 'Bearer res-A'],
    ]);
  });

  test('auth: false sends no Authorization header', async () => {
    control.storage.set(RES_KEY, { access_token: 'res-A' });
    await residentClient().get('/config', null, { auth: false });
    expect(control.requests[0].header.Authorization).toBeUndefined();
  });

  test('a resident without a token logs in silently with wx.login first', async () => {
    control.respond((req) => (path(req) === '/mp/v1/auth/login'
      ? { statusCode: 200, data: { access_token: 'new-A', refresh_token: 'new-R', expires_in: 7200, resident: { id: 'r1', phone: null } } }
      : { statusCode: 200, data: { items: [] } }));
    await residentClient().get('/items');
    expect(control.requests.map(path)).toEqual(['/mp/v1/auth/login', '/mp/v1/items']);
    expect(JSON.parse(control.requests[0].data)).toEqual({ code: 'code-1' });
    expect(control.requests[1].header.Authorization).toBe('Bearer new-A');
    expect(control.storage.get('yimen:resident:profile')).toEqual({ id: 'r1', phone: null });
  });
});

describe('401: refresh once, retry once', () => {
  test('token-expired refreshes, stores the new pair and retries with it', async () => {
    control.storage.set(WORKER_KEY, { access_token: 'old-A', refresh_token: 'old-R' });
    control.respond((req) => {
      if (path(req) === '/mobile/v1/auth/refresh') return { statusCode: 200, data: { access_token: 'new-A', refresh_token: 'new-R', expires_in: 60 } };
      return req.header.Authorization === 'Bearer new-A'
        ? { statusCode: 200, data: { items: [1] } }
        : problem(401, 'token-expired', '登录已过期，请重新登录');
    });
    const data = await workerClient().get('/reports');
    expect(data).toEqual({ items: [1] });
    expect(control.requests.map(path)).toEqual(['/mobile/v1/reports', '/mobile/v1/auth/refresh', '/mobile/v1/reports']);
    expect(JSON.parse(control.requests[1].data)).toEqual({ refresh_token: 'old-R' });
    expect(control.requests[1].header.Authorization).toBeUndefined();
    expect(control.storage.get(WORKER_KEY)).toMatchObject({ access_token: 'new-A', refresh_token: 'new-R' });
  });

  test('a second 401 after the refresh is not refreshed again: login required, tokens cleared', async () => {
    control.storage.set(WORKER_KEY, { access_token: 'old-A', refresh_token: 'old-R' });
    control.respond((req) => (path(req) === '/mobile/v1/auth/refresh'
      ? { statusCode: 200, data: { access_token: 'new-A', refresh_token: 'new-R' } }
      : problem(401, 'token-expired', '登录已过期，请重新登录')));
    const err = await workerClient().get('/reports', null, { showError: false }).catch((e) => e);
    expect(err.status).toBe(401);
    expect(err.loginRequired).toBe(true);
    expect(control.requests.map(path)).toEqual(['/mobile/v1/reports', '/mobile/v1/auth/refresh', '/mobile/v1/reports']);
    expect(control.storage.has(WORKER_KEY)).toBe(false);
  });

  test('a 401 that is not token-expired does not call refresh (worker must log in again)', async () => {
    control.storage.set(WORKER_KEY, { access_token: 'A', refresh_token: 'R' });
    control.respond(() => problem(401, 'token-revoked', '登录已失效，请重新登录'));
    const err = await workerClient().get('/reports', null, { showError: false }).catch((e) => e);
    expect(err.loginRequired).toBe(true);
    expect(err.message).toBe('登录已失效，请重新登录');
    expect(control.requests.map(path)).toEqual(['/mobile/v1/reports']);
  });

  test('for a resident, any other 401 means a silent new login and one retry', async () => {
    control.storage.set(RES_KEY, { access_token: 'A', refresh_token: 'R' });
    control.respond((req) => {
      if (path(req) === '/mp/v1/auth/login') return { statusCode: 200, data: { access_token: 'B', refresh_token: 'R2' } };
      return req.header.Authorization === 'Bearer B' ? { statusCode: 200, data: { id: 'me' } } : problem(401, 'unauthorized', '请先登录');
    });
    expect(await residentClient().get('/me')).toEqual({ id: 'me' });
    expect(control.requests.map(path)).toEqual(['/mp/v1/me', '/mp/v1/auth/login', '/mp/v1/me']);
  });

  test('two requests failing at once share one refresh', async () => {
    control.storage.set(WORKER_KEY, { access_token: 'old-A', refresh_token: 'old-R' });
    control.respond((req) => {
      if (path(req) === '/mobile/v1/auth/refresh') return { statusCode: 200, data: { access_token: 'new-A', refresh_token: 'new-R' } };
      return req.header.Authorization === 'Bearer new-A' ? { statusCode: 200, data: {} } : problem(401, 'token-expired', '过期');
    });
    const client = workerClient();
    await Promise.all([client.get('/reports'), client.get('/reports/1')]);
    expect(control.requests.filter((r) => path(r) === '/mobile/v1/auth/refresh')).toHaveLength(1);
  });
});

describe('a refresh that gets no answer', () => {
  test('a network failure during refresh is a network error; the tokens are kept', async () => {
    control.storage.set(WORKER_KEY, { access_token: 'old-A', refresh_token: 'old-R' });
    control.respond((req) => (path(req) === '/mobile/v1/auth/refresh'
      ? { fail: 'request:fail timeout' }
      : problem(401, 'token-expired', '登录已过期，请重新登录')));
    const err = await workerClient({ retries: 0 }).get('/reports').catch((e) => e);
    expect(err.network).toBe(true);
    expect(err.loginRequired).toBeUndefined();
    expect(err.message).toBe('网络连接失败，请检查网络后再试');
    expect(control.requests.map(path)).toEqual(['/mobile/v1/reports', '/mobile/v1/auth/refresh']);
    expect(control.storage.get(WORKER_KEY)).toEqual({ access_token: 'old-A', refresh_token: 'old-R' });
    expect(control.calls.toast[0].title).toBe('网络连接失败，请检查网络后再试');

    // signal back: the kept refresh token still works
    control.respond((req) => {
      if (path(req) === '/mobile/v1/auth/refresh') return { statusCode: 200, data: { access_token: 'new-A', refresh_token: 'new-R' } };
      return req.header.Authorization === 'Bearer new-A' ? { statusCode: 200, data: { items: [] } } : problem(401, 'token-expired', '过期');
    });
    expect(await workerClient({ retries: 0 }).get('/reports')).toEqual({ items: [] });
  });

  test('a server error from refresh keeps the tokens too; a refused refresh token clears them', async () => {
    control.storage.set(WORKER_KEY, { access_token: 'A', refresh_token: 'R' });
    control.respond((req) => (path(req) === '/mobile/v1/auth/refresh' ? { statusCode: 503, data: {} } : problem(401, 'token-expired', '过期')));
    const err = await workerClient({ retries: 0 }).get('/reports', null, { showError: false }).catch((e) => e);
    expect(err).toMatchObject({ status: 503, message: '服务暂时不可用，请稍后再试' });
    expect(err.loginRequired).toBeUndefined();
    expect(control.storage.get(WORKER_KEY)).toEqual({ access_token: 'A', refresh_token: 'R' });

    control.respond((req) => (path(req) === '/mobile/v1/auth/refresh' ? problem(401, 'refresh-invalid', '请重新登录') : problem(401, 'token-expired', '过期')));
    const gone = await workerClient({ retries: 0 }).get('/reports', null, { showError: false }).catch((e) => e);
    expect(gone.loginRequired).toBe(true);
    expect(control.storage.has(WORKER_KEY)).toBe(false);
  });
});

describe('a disabled resident account', () => {
  const DISABLED = '您的账号已停用，请联系乡镇（街道）受理窗口';

  test('403 from /auth/login is shown, nothing is sent without a token, and login is not tried again', async () => {
    control.respond((req) => (path(req) === '/mp/v1/auth/login'
      ? problem(403, 'account-disabled', DISABLED, { title: '账号已停用' })
      : { statusCode: 200, data: { items: [] } }));
    const client = residentClient();
    const err = await client.get('/items').catch((e) => e);
    expect(err.status).toBe(403);
    expect(err.message).toBe(DISABLED);
    expect(err.problem.type).toMatch(/account-disabled$/);
    expect(control.calls.modal[0]).toMatchObject({ title: '账号已停用', content: DISABLED });
    expect(control.requests.map(path)).toEqual(['/mp/v1/auth/login']);

    // the next tap: the same sentence at once, no wx.login, no request
    const again = await client.post('/help-requests', { client_id: 'c' }, { showError: false }).catch((e) => e);
    expect(again).toMatchObject({ status: 403, message: DISABLED });
    expect(control.requests.map(path)).toEqual(['/mp/v1/auth/login']);
    expect(control.loginCount()).toBe(1);
  });

  test('a 403 on the silent login after a 401 is passed on as well', async () => {
    control.storage.set(RES_KEY, { access_token: 'A', refresh_token: 'R' });
    control.respond((req) => (path(req) === '/mp/v1/auth/login'
      ? problem(403, 'account-disabled', DISABLED)
      : problem(401, 'unauthorized', '请先登录')));
    const err = await residentClient().get('/me', null, { showError: false }).catch((e) => e);
    expect(err).toMatchObject({ status: 403, message: DISABLED });
    expect(control.requests.map(path)).toEqual(['/mp/v1/me', '/mp/v1/auth/login']);
  });

  test('a login that failed for a passing reason is tried again on the next call', async () => {
    let loginDown = true;
    control.respond((req) => {
      if (path(req) === '/mp/v1/auth/login') {
        return loginDown ? { statusCode: 502, data: {} } : { statusCode: 200, data: { access_token: 'B', refresh_token: 'R' } };
      }
      return req.header.Authorization === 'Bearer B' ? { statusCode: 200, data: { ok: 1 } } : problem(401, 'unauthorized', '请先登录');
    });
    const client = residentClient({ retries: 0 });
    await client.get('/me', null, { showError: false }).catch(() => {});
    loginDown = false;
    expect(await client.get('/me')).toEqual({ ok: 1 });
  });
});

describe('network failures', () => {
  test('retried with the very same body, so the client_id is the same', async () => {
    control.storage.set(WORKER_KEY, { access_token: 'A' });
    control.respond((req, n) => (n < 3 ? { fail: 'request:fail timeout' } : { statusCode: 201, data: { id: 'r1' } }));
    const res = await workerClient({ retries: 2 }).send({ method: 'POST', path: '/reports', data: { client_id: 'c-1', description: '独居' } });
    expect(res.status).toBe(201);
    expect(control.requests).toHaveLength(3);
    const bodies = control.requests.map((r) => r.data);
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0]).client_id).toBe('c-1');
  });

  test('bounded: gives up after the retries with a network error and a toast', async () => {
    control.storage.set(WORKER_KEY, { access_token: 'A' });
    control.respond(() => ({ fail: 'request:fail' }));
    const err = await workerClient({ retries: 2 }).post('/reports', { client_id: 'c-2' }).catch((e) => e);
    expect(err.network).toBe(true);
    expect(err.message).toBe('网络连接失败，请检查网络后再试');
    expect(control.requests).toHaveLength(3);
    expect(control.calls.toast[0].title).toBe('网络连接失败，请检查网络后再试');
  });

  test('a 503 is retried like a lost connection; a 422 is not', async () => {
    control.storage.set(WORKER_KEY, { access_token: 'A' });
    control.respond((req, n) => (n === 1 ? { statusCode: 503, data: {} } : { statusCode: 200, data: { ok: true } }));
    expect(await workerClient().get('/reports')).toEqual({ ok: true });
    expect(control.requests).toHaveLength(2);

    control.requests.length = 0;
    control.respond(() => problem(422, 'validation-failed', '填写的内容有误'));
    await workerClient().post('/reports', {}, { showError: false }).catch(() => {});
    expect(control.requests).toHaveLength(1);
  });
});

describe('problem+json', () => {
  test('the Chinese detail becomes the Error, with status, problem and field errors, shown in a modal', async () => {
    control.storage.set(RES_KEY, { access_token: 'A' });
    control.respond(() => problem(422, 'validation-failed', '申请人身份证号码不正确', {
      title: '填写的内容有误',
      errors: [{ field: 'applicant.id_number', message: '身份证号码不正确（请核对位数和最后一位校验码）' }],
    }));
    const err = await residentClient().post('/applications', { client_id: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('申请人身份证号码不正确');
    expect(err.status).toBe(422);
    expect(err.problem.type).toMatch(/validation-failed$/);
    expect(err.fieldErrors).toEqual({ 'applicant.id_number': '身份证号码不正确（请核对位数和最后一位校验码）' });
    expect(control.calls.modal).toHaveLength(1);
    expect(control.calls.modal[0]).toMatchObject({ title: '填写的内容有误', content: '申请人身份证号码不正确', showCancel: false });
  });

  test('title is used when there is no detail; a text body still parses; showError: false stays quiet', async () => {
    control.storage.set(RES_KEY, { access_token: 'A' });
    control.respond(() => ({ statusCode: 429, header: { 'retry-after': '30' }, data: JSON.stringify({ title: '操作太频繁，请稍后再试', status: 429 }) }));
    const err = await residentClient().post('/help-requests', {}, { showError: false }).catch((e) => e);
    expect(err.message).toBe('操作太频繁，请稍后再试');
    expect(err.retryAfter).toBe('30');
    expect(control.calls.modal).toHaveLength(0);
    expect(control.calls.toast).toHaveLength(0);
  });

  test('a non-problem error body gets a plain Chinese message by status', async () => {
    control.storage.set(RES_KEY, { access_token: 'A' });
    control.respond(() => ({ statusCode: 500, data: '<html>Internal</html>' }));
    const err = await residentClient().get('/me', null, { showError: false }).catch((e) => e);
    expect(err.message).toBe('服务暂时不可用，请稍后再试');
    expect(err.problem).toBeNull();
  });
});

describe('upload helper', () => {
  test('multipart with name file, formData and token; the JSON string answer is parsed', async () => {
    control.storage.set(RES_KEY, { access_token: 'A' });
    control.respondUpload(() => ({ statusCode: 201, data: '{"photo_id":"p9","status":"received"}' }));
    const res = await residentClient().upload({ path: '/help-requests/h1/photos', filePath: 'wxfile://tmp/1.jpg', formData: { client_photo_id: 'cp-1' } });
    expect(res).toMatchObject({ status: 201, data: { photo_id: 'p9', status: 'received' } });
    expect(control.uploads[0]).toMatchObject({
      url: `${BASE}/mp/v1/help-requests/h1/photos`,
      filePath: 'wxfile://tmp/1.jpg',
      name: 'file',
      formData: { client_photo_id: 'cp-1' },
      header: { Authorization: 'Bearer A' },
    });
  });

  test('network failure retries with the same client_photo_id; 401 refreshes once', async () => {
    control.storage.set(RES_KEY, { access_token: 'old', refresh_token: 'R' });
    control.respond(() => ({ statusCode: 200, data: { access_token: 'new', refresh_token: 'R2' } }));
    control.respondUpload((rec, n) => {
      if (n === 1) return { fail: 'uploadFile:fail' };
      if (rec.header.Authorization === 'Bearer old') return { statusCode: 401, data: JSON.stringify({ type: 'x/token-expired', title: '过期', status: 401 }) };
      return { statusCode: 201, data: '{"photo_id":"p1"}' };
    });
    const res = await residentClient().upload({ path: '/help-requests/h1/photos', filePath: 'f', formData: { client_photo_id: 'same' } });
    expect(res.status).toBe(201);
    expect(control.uploads.map((u) => [u.formData.client_photo_id, u.header.Authorization])).toEqual([
      ['same', 'Bearer old'], ['same', 'Bearer old'], ['same', 'Bearer new'],
    ]);
    expect(control.requests.map(path)).toEqual(['/mp/v1/auth/refresh']);
  });

  test('a refused photo answers the server sentence', async () => {
    control.storage.set(RES_KEY, { access_token: 'A' });
    control.respondUpload(() => ({ statusCode: 413, data: JSON.stringify({ type: 'x/photo-too-large', title: '照片无法接收', detail: '照片超过 15 MB', status: 413 }) }));
    const err = await residentClient().upload({ path: '/x', filePath: 'f', showError: false }).catch((e) => e);
    expect(err.status).toBe(413);
    expect(err.message).toBe('照片超过 15 MB');
  });
});

