// Grid workers' reports waiting for signal. Every report goes through this queue (saved first,
// then sent), so a report made in a valley without signal and one made in town follow the same
// path. Items are persisted in storage and sent, once each, when the network returns.
//
// Rules:
// - the report keeps its client_id from the moment it was written, so a resend after a lost
//   answer is a replay: the server answers 200 with the first record, which counts as success;
// - an item leaves the queue only after the server accepted it (201/200) and its photos were
//   handled;
// - a 4xx other than 401/408/429 marks it failed with the server's Chinese message, so the worker
//   can correct it; it is not retried on its own;
// - a network failure (or 401/408/429/5xx) keeps it queued and ends this flush;
// - one flush at a time: a flush asked for while one runs joins it (and picks up new items);
// - each item carries the id of the worker who wrote it (worker_id); a flush sends only the
//   logged-in worker's items, so on a shared phone worker B never sends worker A's reports under
//   B's login. A's items stay on the phone and go out when A logs in again. An item saved before
//   items carried a worker_id is taken by the first worker who flushes.
const { STORAGE } = require('./config');
const { uuid4 } = require('./uuid');

const STATE = {
  pending: 'pending', // waiting to be sent
  photos: 'photos', // report accepted; photos still to upload
  failed: 'failed', // the server refused it: the worker must look at it
};

const STATE_LABELS = {
  pending: '等待发送（有网络时自动发送）',
  photos: '报告已送达，照片等待上传',
  failed: '没有发送成功，请查看原因',
};

// Statuses that say "try again later", not "this report is wrong".
const KEEP_STATUSES = [401, 408, 429];

function shouldKeep(err) {
  if (!err || err.network || err.loginRequired) return true;
  if (!err.status) return true;
  return KEEP_STATUSES.indexOf(err.status) >= 0 || err.status >= 500;
}

function describeRefusal(err) {
  const fields = err.fieldErrors || {};
  const details = Object.keys(fields).map((k) => fields[k]).filter((m) => m && m !== err.message);
  return details.length ? `${err.message}：${details.join('；')}` : err.message;
}

// Files from wx.chooseMedia are temporary; queued photos are copied to the user data folder.
function wxFiles() {
  return {
    persist(tempPath, id) {
      try {
        const fs = wx.getFileSystemManager();
        const ext = (String(tempPath).match(/\.[A-Za-z0-9]+$/) || ['.jpg'])[0];
        return fs.saveFileSync(tempPath, `${wx.env.USER_DATA_PATH}/queue-${id}${ext}`);
      } catch (e) {
        return tempPath;
      }
    },
    remove(path) {
      try {
        wx.getFileSystemManager().unlinkSync(path);
      } catch (e) {
        // already gone
      }
    },
    exists(path) {
      try {
        wx.getFileSystemManager().accessSync(path);
        return true;
      } catch (e) {
        return false;
      }
    },
  };
}

function isOnline() {
  return new Promise((resolve) => {
    try {
      wx.getNetworkType({
        success: (res) => resolve(res.networkType !== 'none'),
        fail: () => resolve(true),
      });
    } catch (e) {
      resolve(true);
    }
  });
}

/**
 * options: client (request.js client for /mobile/v1), storageKey, files (persist/remove/exists),
 * now (() => Date), reportsPath, owner (() => the logged-in worker's id, or null when nobody is
 * logged in; without this option items belong to nobody in particular and all are sent).
 */
function createQueue(options) {
  const client = options.client;
  const ownerOf = options.owner || null;
  const storageKey = options.storageKey || STORAGE.workerQueue;
  const files = options.files || wxFiles();
  const reportsPath = options.reportsPath || '/reports';
  const now = options.now || (() => new Date());
  const listeners = [];
  let flushing = null;
  let again = false;
  let started = false;

  function loadAll() {
    const items = wx.getStorageSync(storageKey);
    return Array.isArray(items) ? items : [];
  }

  // undefined: no owners kept; null: nobody logged in (nothing is theirs); else the worker id.
  function owner() {
    if (!ownerOf) return undefined;
    const id = ownerOf();
    return id === undefined || id === null || id === '' ? null : String(id);
  }

  function belongsTo(it, who) {
    if (who === undefined) return true;
    if (who === null) return false;
    return !it.worker_id || it.worker_id === who;
  }

  // The logged-in worker's items (what the pages show and a flush sends).
  function load() {
    const who = owner();
    return loadAll().filter((it) => belongsTo(it, who));
  }

  function save(items) {
    wx.setStorageSync(storageKey, items);
    listeners.forEach((fn) => {
      try {
        fn(items);
      } catch (e) {
        // a page's listener must not stop the queue
      }
    });
  }

  // Read-modify-write of one item, synchronous, so no stale copy is ever written back.
  function mutate(clientId, fn) {
    const items = loadAll();
    const i = items.findIndex((it) => it.client_id === clientId);
    if (i < 0) return null;
    const next = fn(Object.assign({}, items[i]));
    if (next === null) items.splice(i, 1);
    else items[i] = next;
    save(items);
    return next;
  }

  function getAny(clientId) {
    return loadAll().find((it) => it.client_id === clientId) || null;
  }

  // One of the logged-in worker's items.
  function get(clientId) {
    return load().find((it) => it.client_id === clientId) || null;
  }

  function photoEntries(photos) {
    return (photos || []).map((p) => {
      const id = p.client_photo_id || uuid4();
      return { client_photo_id: id, path: files.persist(p.path, id), state: 'pending', error: '' };
    });
  }

  // Saves a report (its body already carries client_id) with its photos; returns the item.
  function enqueue(body, photos) {
    if (!body || !body.client_id) throw new Error('report body needs a client_id');
    const who = owner();
    const item = {
      client_id: body.client_id,
      worker_id: who || null,
      body,
      photos: photoEntries(photos),
      state: STATE.pending,
      error: '',
      report: null,
      queued_at: now().toISOString(),
      attempts: 0,
    };
    const items = loadAll().filter((it) => it.client_id !== body.client_id);
    items.push(item);
    save(items);
    return item;
  }

  // The worker corrected a failed report: same client_id (the refused body was never stored).
  function update(clientId, body, photos) {
    return mutate(clientId, (it) => {
      const kept = it.photos.filter((p) => (photos || []).some((n) => n.client_photo_id === p.client_photo_id));
      it.photos.filter((p) => kept.indexOf(p) < 0).forEach((p) => files.remove(p.path));
      const added = photoEntries((photos || []).filter((n) => !it.photos.some((p) => p.client_photo_id === n.client_photo_id)));
      return Object.assign(it, {
        body: Object.assign({}, body, { client_id: clientId }),
        photos: kept.map((p) => Object.assign({}, p, { state: p.state === 'done' ? 'done' : 'pending', error: '' })).concat(added),
        state: it.report ? STATE.photos : STATE.pending,
        error: '',
      });
    });
  }

  // Put a failed item back in line (after the worker read the message).
  function retry(clientId) {
    return mutate(clientId, (it) => {
      it.photos = it.photos.map((p) => (p.state === 'failed' ? Object.assign({}, p, { state: 'pending', error: '' }) : p));
      return Object.assign(it, { state: it.report ? STATE.photos : STATE.pending, error: '' });
    });
  }

  function remove(clientId) {
    const it = getAny(clientId);
    if (it) it.photos.forEach((p) => files.remove(p.path));
    mutate(clientId, () => null);
  }

  async function sendReport(item, result) {
    try {
      const res = await client.send({
        method: 'POST',
        path: reportsPath,
        data: item.body,
        showError: false,
        retries: 1,
      });
      // 201 the first time, 200 when the server had it already (a replay): both are accepted.
      mutate(item.client_id, (it) => Object.assign(it, {
        state: STATE.photos,
        error: '',
        attempts: (it.attempts || 0) + 1,
        report: { id: res.data.id, number: res.data.number, status_label: res.data.status_label },
      }));
      return true;
    } catch (err) {
      if (shouldKeep(err)) {
        mutate(item.client_id, (it) => Object.assign(it, { attempts: (it.attempts || 0) + 1 }));
        result.kept += 1;
        result.stopped = true;
        result.error = err;
        return false;
      }
      mutate(item.client_id, (it) => Object.assign(it, {
        state: STATE.failed,
        error: describeRefusal(err),
        status: err.status,
        attempts: (it.attempts || 0) + 1,
      }));
      result.failed.push(item.client_id);
      return false;
    }
  }

  async function sendPhotos(clientId, result) {
    for (;;) {
      const it = getAny(clientId);
      if (!it) return false;
      const photo = it.photos.find((p) => p.state === 'pending');
      if (!photo) break;
      if (!files.exists(photo.path)) {
        mutate(clientId, (x) => {
          x.photos = x.photos.map((p) => (p.client_photo_id === photo.client_photo_id ? Object.assign({}, p, { state: 'failed', error: '照片文件已不在手机上' }) : p));
          return x;
        });
        continue; // eslint-disable-line no-continue
      }
      try {
        await client.upload({
          path: `${reportsPath}/${it.report.id}/photos`,
          filePath: photo.path,
          name: 'file',
          formData: { client_photo_id: photo.client_photo_id },
          showError: false,
          retries: 1,
        });
        files.remove(photo.path);
        mutate(clientId, (x) => {
          x.photos = x.photos.map((p) => (p.client_photo_id === photo.client_photo_id ? Object.assign({}, p, { state: 'done', error: '' }) : p));
          return x;
        });
      } catch (err) {
        if (shouldKeep(err)) {
          result.kept += 1;
          result.stopped = true;
          result.error = err;
          return false;
        }
        mutate(clientId, (x) => {
          x.photos = x.photos.map((p) => (p.client_photo_id === photo.client_photo_id ? Object.assign({}, p, { state: 'failed', error: err.message }) : p));
          return x;
        });
      }
    }
    const it = getAny(clientId);
    const refused = it.photos.filter((p) => p.state === 'failed');
    if (refused.length) {
      mutate(clientId, (x) => Object.assign(x, {
        state: STATE.failed,
        error: `报告已送达（编号 ${x.report.number || ''}），但有 ${refused.length} 张照片没有传上去：${refused[0].error}`,
      }));
      result.failed.push(clientId);
      return false;
    }
    result.sent.push(Object.assign({ client_id: clientId }, it.report));
    mutate(clientId, () => null);
    return true;
  }

  // Items saved before they carried a worker id become the current worker's.
  function claimUnowned(who) {
    if (!who) return;
    const items = loadAll();
    if (!items.some((it) => !it.worker_id)) return;
    save(items.map((it) => (it.worker_id ? it : Object.assign({}, it, { worker_id: who }))));
  }

  async function run() {
    const result = { sent: [], failed: [], kept: 0, stopped: false, error: null, offline: false, noWorker: false };
    const who = owner();
    if (who === null) {
      // nobody logged in: every item waits for its own worker
      result.noWorker = true;
      return result;
    }
    claimUnowned(who);
    if (!(await isOnline())) {
      result.offline = true;
      result.kept = load().filter((it) => it.state !== STATE.failed).length;
      return result;
    }
    const tried = {};
    for (;;) {
      again = false;
      const next = load().find((it) => it.state !== STATE.failed && !tried[it.client_id]);
      if (!next) break;
      tried[next.client_id] = true;
      if (next.state === STATE.pending) {
        if (!(await sendReport(next, result))) {
          if (result.stopped) break;
          continue; // eslint-disable-line no-continue
        }
      }
      await sendPhotos(next.client_id, result);
      if (result.stopped) break;
    }
    if (result.stopped) {
      result.kept = load().filter((it) => it.state !== STATE.failed).length;
    }
    return result;
  }

  // Sends what is waiting. Concurrent calls share the one running flush.
  function flush() {
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = (async () => {
      try {
        let result = await run();
        // Something was queued while the last pass was finishing: one more pass.
        while (again && !result.stopped && !result.offline && !result.noWorker) {
          const more = await run();
          more.sent = result.sent.concat(more.sent);
          more.failed = result.failed.concat(more.failed);
          result = more;
        }
        return result;
      } finally {
        flushing = null;
        again = false;
      }
    })();
    return flushing;
  }

  // Flush whenever the network comes back; registered once.
  function start() {
    if (started) return;
    started = true;
    wx.onNetworkStatusChange((res) => {
      if (res && res.isConnected) flush();
    });
  }

  function onChange(fn) {
    listeners.push(fn);
    return () => {
      const i = listeners.indexOf(fn);
      if (i >= 0) listeners.splice(i, 1);
    };
  }

  return {
    enqueue,
    update,
    retry,
    remove,
    get,
    list: load,
    // every item on the phone, whoever wrote it
    listAll: loadAll,
    flush,
    start,
    onChange,
    isFlushing: () => !!flushing,
  };
}

let workerQueue = null;

// The app's one queue for grid-worker reports.
function getWorkerQueue() {
  if (!workerQueue) {
    const api = require('./api'); // eslint-disable-line global-require
    const auth = require('./auth'); // eslint-disable-line global-require
    workerQueue = createQueue({
      client: api.worker,
      storageKey: STORAGE.workerQueue,
      owner: () => {
        const worker = auth.workerProfile();
        return worker && worker.id;
      },
    });
  }
  return workerQueue;
}

module.exports = { createQueue, getWorkerQueue, STATE, STATE_LABELS, shouldKeep };
