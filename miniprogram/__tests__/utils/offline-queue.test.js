const { installFakeWx, settle, problem } = require('../helpers/fake-wx');
const { createClient } = require('../../utils/request');
const { createQueue, STATE } = require('../../utils/offline-queue');

const BASE = 'https://api.test';
const KEY = 'yimen:worker:queue';

function fakeFiles() {
  const files = { persisted: [], removed: [], missing: new Set() };
  files.persist = (tmp, id) => {
    const saved = `wxfile://usr/queue-${id}.jpg`;
    files.persisted.push([tmp, saved]);
    return saved;
  };
  files.remove = (p) => files.removed.push(p);
  files.exists = (p) => !files.missing.has(p);
  return files;
}

function report(clientId, extra) {
  return Object.assign({
    client_id: clientId,
    subject: { name: '王大妈', village_code: '330523001201' },
    hardship: ['elderly_alone'],
    description: '独居，腿脚不便',
    urgent: false,
    observed_at: '2026-05-01T09:30:00+08:00',
  }, extra || {});
}

const reportsPosted = (control) => control.requests.filter((r) => r.method === 'POST' && /\/mobile\/v1\/reports$/.test(r.url));

let control;
let files;
let queue;
beforeEach(() => {
  control = installFakeWx();
  control.storage.set('yimen:worker:auth', { access_token: 'W', refresh_token: 'WR' });
  files = fakeFiles();
  const client = createClient({ prefix: '/mobile/v1', tokenKey: 'yimen:worker:auth', baseUrl: BASE, retryDelayMs: 0, retries: 0 });
  queue = createQueue({ client, storageKey: KEY, files });
  let n = 0;
  control.respond((req) => {
    n += 1;
    const body = JSON.parse(req.data);
    return { statusCode: 201, data: { id: `lead-${body.client_id}`, number: `330523001-2026-0000${n}`, status_label: '已送达窗口' } };
  });
});

test('offline: the report waits in storage and nothing is sent', async () => {
  control.setNetwork('none');
  queue.enqueue(report('c1'), [{ path: 'wxfile://tmp/a.jpg', client_photo_id: 'p1' }]);
  const result = await queue.flush();
  expect(result.offline).toBe(true);
  expect(control.requests).toHaveLength(0);
  const stored = control.storage.get(KEY);
  expect(stored).toHaveLength(1);
  expect(stored[0]).toMatchObject({ client_id: 'c1', state: STATE.pending, body: { client_id: 'c1' } });
  // the temporary photo was copied somewhere that survives the mini-program being closed
  expect(stored[0].photos[0]).toMatchObject({ client_photo_id: 'p1', path: 'wxfile://usr/queue-p1.jpg', state: 'pending' });
});

test('reconnect flushes once, photos go after the report, and the queue empties', async () => {
  control.setNetwork('none');
  queue.start();
  queue.start(); // registering twice must not mean two flushes per event
  expect(control.networkListenerCount()).toBe(1);
  queue.enqueue(report('c1'), [{ path: 'tmp/a.jpg', client_photo_id: 'p1' }, { path: 'tmp/b.jpg', client_photo_id: 'p2' }]);

  // Two reconnect events in a row (WeChat sends one per network change).
  control.emitNetwork(true);
  control.emitNetwork(true);
  await settle(40);

  expect(reportsPosted(control)).toHaveLength(1);
  expect(JSON.parse(reportsPosted(control)[0].data)).toEqual(report('c1'));
  expect(control.uploads.map((u) => [u.url.replace(BASE, ''), u.formData.client_photo_id, u.name])).toEqual([
    ['/mobile/v1/reports/lead-c1/photos', 'p1', 'file'],
    ['/mobile/v1/reports/lead-c1/photos', 'p2', 'file'],
  ]);
  expect(control.storage.get(KEY)).toEqual([]);
  expect(files.removed).toEqual(['wxfile://usr/queue-p1.jpg', 'wxfile://usr/queue-p2.jpg']);
});

test('two flushes at the same time share one run: each report is sent once', async () => {
  queue.enqueue(report('c1'));
  queue.enqueue(report('c2'));
  const [a, b] = await Promise.all([queue.flush(), queue.flush()]);
  expect(a).toBe(b);
  expect(reportsPosted(control).map((r) => JSON.parse(r.data).client_id)).toEqual(['c1', 'c2']);
  expect(a.sent.map((s) => s.client_id)).toEqual(['c1', 'c2']);
  await queue.flush();
  expect(reportsPosted(control)).toHaveLength(2);
});

test('a report queued while a flush runs is picked up by it', async () => {
  queue.enqueue(report('c1'));
  const running = queue.flush();
  queue.enqueue(report('c2'));
  const joined = queue.flush();
  const result = await running;
  expect(await joined).toBe(result);
  expect(result.sent.map((s) => s.client_id)).toEqual(['c1', 'c2']);
  expect(control.storage.get(KEY)).toEqual([]);
});

test('a 422 marks it failed with the Chinese message and it is not retried on its own', async () => {
  control.respond(() => problem(422, 'validation-failed', '填写的内容有误', {
    errors: [{ field: 'subject.id_number', message: '身份证号码不正确（请核对位数和最后一位校验码）' }],
  }));
  queue.enqueue(report('bad'));
  const result = await queue.flush();
  expect(result.failed).toEqual(['bad']);
  const [item] = control.storage.get(KEY);
  expect(item.state).toBe(STATE.failed);
  expect(item.error).toBe('填写的内容有误：身份证号码不正确（请核对位数和最后一位校验码）');

  await queue.flush();
  control.emitNetwork(true);
  await settle(10);
  expect(reportsPosted(control)).toHaveLength(1);

  // the worker corrects it: same client_id (nothing was stored), sent again
  control.respond(() => ({ statusCode: 201, data: { id: 'lead-bad', number: 'N1' } }));
  queue.update('bad', report('bad', { subject: { name: '王大妈' } }), []);
  await queue.flush();
  expect(reportsPosted(control)).toHaveLength(2);
  expect(JSON.parse(reportsPosted(control)[1].data).client_id).toBe('bad');
  expect(control.storage.get(KEY)).toEqual([]);
});

test('a network error keeps it queued; the next flush sends the same body', async () => {
  let down = true;
  control.respond((req) => (down ? { fail: 'request:fail -101' } : { statusCode: 201, data: { id: 'lead-1', number: 'N1' } }));
  queue.enqueue(report('c1'));
  const first = await queue.flush();
  expect(first.kept).toBe(1);
  expect(first.error.network).toBe(true);
  expect(control.storage.get(KEY)[0].state).toBe(STATE.pending);

  // the queue allows one immediate retry per flush: two tries now, one later
  expect(reportsPosted(control)).toHaveLength(2);
  down = false;
  await queue.flush();
  const bodies = reportsPosted(control).map((r) => r.data);
  expect(bodies).toHaveLength(3);
  expect(new Set(bodies).size).toBe(1);
  expect(control.storage.get(KEY)).toEqual([]);
});

test('401, 408, 429 and 5xx keep the report for later; the flush stops there', async () => {
  for (const status of [401, 408, 429, 500]) {
    control.requests.length = 0;
    control.storage.set(KEY, []);
    control.storage.set('yimen:worker:auth', { access_token: 'W' });
    control.respond(() => problem(status, 'x', '稍后再试'));
    queue.enqueue(report('c1'));
    queue.enqueue(report('c2'));
    const result = await queue.flush();
    expect(result.failed).toEqual([]);
    expect(control.storage.get(KEY).map((i) => i.state)).toEqual([STATE.pending, STATE.pending]);
    expect(reportsPosted(control)).toHaveLength(1);
  }
});

test('a replayed report (200 with the first record) counts as accepted', async () => {
  control.respond(() => ({ statusCode: 200, data: { id: 'lead-first', number: '330523001-2026-00001', status_label: '已送达窗口' } }));
  queue.enqueue(report('c1'), [{ path: 'tmp/a.jpg', client_photo_id: 'p1' }]);
  const result = await queue.flush();
  expect(result.sent).toEqual([{ client_id: 'c1', id: 'lead-first', number: '330523001-2026-00001', status_label: '已送达窗口' }]);
  expect(control.uploads[0].url).toBe(`${BASE}/mobile/v1/reports/lead-first/photos`);
  expect(control.storage.get(KEY)).toEqual([]);
});

test('photos: lost connection keeps the item without resending the report; a refused photo is reported', async () => {
  let uploadsDown = true;
  control.respondUpload((rec) => {
    if (uploadsDown) return { fail: 'uploadFile:fail' };
    return rec.formData.client_photo_id === 'p2'
      ? { statusCode: 415, data: JSON.stringify({ title: '照片无法接收', detail: '只接受 JPEG、PNG、WebP 或 HEIC 照片', status: 415 }) }
      : { statusCode: 201, data: '{"photo_id":"x"}' };
  });
  queue.enqueue(report('c1'), [{ path: 'a.jpg', client_photo_id: 'p1' }, { path: 'b.gif', client_photo_id: 'p2' }]);
  await queue.flush();
  let [item] = control.storage.get(KEY);
  expect(item.state).toBe(STATE.photos);
  expect(item.report.id).toBe('lead-c1');

  uploadsDown = false;
  await queue.flush();
  expect(reportsPosted(control)).toHaveLength(1);
  [item] = control.storage.get(KEY);
  expect(item.state).toBe(STATE.failed);
  expect(item.photos.map((p) => p.state)).toEqual(['done', 'failed']);
  expect(item.error).toContain('报告已送达');
  expect(item.error).toContain('只接受 JPEG、PNG、WebP 或 HEIC 照片');

  // retrying a report already on the server only retries its refused photo
  const p2Before = control.uploads.filter((u) => u.formData.client_photo_id === 'p2').length;
  const p1Before = control.uploads.filter((u) => u.formData.client_photo_id === 'p1').length;
  queue.retry('c1');
  await queue.flush();
  expect(reportsPosted(control)).toHaveLength(1);
  expect(control.uploads.filter((u) => u.formData.client_photo_id === 'p2')).toHaveLength(p2Before + 1);
  expect(control.uploads.filter((u) => u.formData.client_photo_id === 'p1')).toHaveLength(p1Before);
});

test('remove deletes the item and its saved photos', () => {
  queue.enqueue(report('c1'), [{ path: 'a.jpg', client_photo_id: 'p1' }]);
  queue.remove('c1');
  expect(control.storage.get(KEY)).toEqual([]);
  expect(files.removed).toEqual(['wxfile://usr/queue-p1.jpg']);
});

describe('a phone shared by two workers', () => {
  let who;
  let shared;
  beforeEach(() => {
    who = 'w-a';
    const client = createClient({ prefix: '/mobile/v1', tokenKey: 'yimen:worker:auth', baseUrl: BASE, retryDelayMs: 0, retries: 0 });
    shared = createQueue({ client, storageKey: KEY, files, owner: () => who });
  });

  test("each item keeps its worker; B's flush never sends A's reports, A's next login does", async () => {
    control.setNetwork('none');
    shared.enqueue(report('a1'));
    shared.enqueue(report('a2'));
    expect(control.storage.get(KEY).map((i) => [i.client_id, i.worker_id])).toEqual([['a1', 'w-a'], ['a2', 'w-a']]);

    // A logs out, B logs in on the same phone and reports one
    who = 'w-b';
    control.setNetwork('wifi');
    expect(shared.list()).toEqual([]);
    expect(shared.get('a1')).toBeNull();
    shared.enqueue(report('b1'));
    const resultB = await shared.flush();
    expect(resultB.sent.map((s) => s.client_id)).toEqual(['b1']);
    expect(reportsPosted(control).map((r) => JSON.parse(r.data).client_id)).toEqual(['b1']);
    expect(shared.listAll().map((i) => i.client_id)).toEqual(['a1', 'a2']);

    // nobody logged in: nothing is sent, whatever the network says
    who = null;
    control.emitNetwork(true);
    const none = await shared.flush();
    expect(none.noWorker).toBe(true);
    expect(reportsPosted(control)).toHaveLength(1);

    who = 'w-a';
    const resultA = await shared.flush();
    expect(resultA.sent.map((s) => s.client_id)).toEqual(['a1', 'a2']);
    expect(control.storage.get(KEY)).toEqual([]);
  });

  test('an item saved before items carried a worker id is taken by the worker who flushes', async () => {
    control.storage.set(KEY, [{ client_id: 'old', state: STATE.pending, body: report('old'), photos: [], error: '', report: null }]);
    control.setNetwork('none');
    await shared.flush();
    expect(control.storage.get(KEY)[0].worker_id).toBe('w-a');
    who = 'w-b';
    expect(shared.list()).toEqual([]);
  });
});
