// A stand-in for the `wx` global that tests drive: storage that serialises like the real one,
// wx.request / wx.uploadFile answered by a responder the test sets, network status events,
// and recorders for the UI calls (toast, modal, loading).

function clone(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

function createFakeWx(overrides) {
  const storage = new Map();
  const requests = [];
  const uploads = [];
  const networkListeners = [];
  const calls = { toast: [], modal: [], loading: [], navigate: [], phone: [], openLocation: [] };
  let networkType = 'wifi';
  let loginCount = 0;
  let responder = () => ({ statusCode: 200, data: {} });
  let uploadResponder = () => ({ statusCode: 201, data: JSON.stringify({ photo_id: 'p1', status: 'received' }) });
  let modalAnswer = { confirm: true, cancel: false };
  // what wx.getLocation answers: a position, or an errMsg string (refused by default)
  let location = 'getLocation:fail auth deny';
  let subscribeAnswer = null; // {templateId: 'accept'} or null (dialog fails)
  // wx.requirePrivacyAuthorize: 'agree' | 'refuse' | fn(opts) (the test answers when it likes)
  let privacyAnswer = 'agree';
  const order = []; // names of wx calls whose order matters

  // Answers arrive on a later turn, as they do on a phone.
  function deliver(answer, opts) {
    Promise.resolve(answer).then((a) => {
      setTimeout(() => {
        if (a && a.fail) {
          if (opts.fail) opts.fail({ errMsg: a.fail });
        } else if (opts.success) {
          opts.success({ statusCode: a.statusCode, data: a.data, header: a.header || {} });
        }
        if (opts.complete) opts.complete();
      }, 0);
    });
  }

  const wx = {
    env: { USER_DATA_PATH: 'wxfile://usr' },
    getStorageSync: (k) => (storage.has(k) ? clone(storage.get(k)) : ''),
    setStorageSync: (k, v) => {
      storage.set(k, clone(v));
    },
    removeStorageSync: (k) => {
      storage.delete(k);
    },
    getAccountInfoSync: () => ({ miniProgram: { envVersion: 'release', appId: 'touristappid' } }),
    request(opts) {
      const rec = { url: opts.url, method: opts.method, header: clone(opts.header), data: opts.data };
      requests.push(rec);
      order.push(`request ${opts.method} ${opts.url.replace(/^https?:\/\/[^/]+/, '')}`);
      deliver(networkType === 'none' ? { fail: 'request:fail -101' } : responder(rec, requests.length), opts);
      return { abort() {} };
    },
    uploadFile(opts) {
      const rec = { url: opts.url, filePath: opts.filePath, name: opts.name, formData: clone(opts.formData), header: clone(opts.header) };
      uploads.push(rec);
      order.push(`upload ${opts.url.replace(/^https?:\/\/[^/]+/, '')}`);
      deliver(networkType === 'none' ? { fail: 'uploadFile:fail -101' } : uploadResponder(rec, uploads.length), opts);
      return { abort() {}, onProgressUpdate() {} };
    },
    login(opts) {
      loginCount += 1;
      setTimeout(() => opts.success({ code: `code-${loginCount}` }), 0);
    },
    getNetworkType(opts) {
      setTimeout(() => opts.success({ networkType }), 0);
    },
    onNetworkStatusChange(fn) {
      networkListeners.push(fn);
    },
    showToast(o) {
      calls.toast.push(o);
    },
    showModal(o) {
      calls.modal.push(o);
      const a = typeof modalAnswer === 'function' ? modalAnswer(o) : modalAnswer;
      setTimeout(() => o.success && o.success(a), 0);
    },
    showLoading(o) {
      calls.loading.push(o);
    },
    hideLoading() {},
    navigateTo(o) {
      calls.navigate.push(o.url);
    },
    redirectTo(o) {
      calls.navigate.push(o.url);
    },
    makePhoneCall(o) {
      calls.phone.push(o.phoneNumber);
    },
    openLocation(o) {
      calls.openLocation.push(o);
    },
    stopPullDownRefresh() {},
    switchTab(o) {
      calls.navigate.push(o.url);
    },
    reLaunch(o) {
      calls.navigate.push(o.url);
    },
    navigateBack() {},
    previewImage() {},
    getLocation(o) {
      order.push('getLocation');
      calls.location = (calls.location || []).concat([o]);
      setTimeout(() => {
        if (typeof location === 'string') o.fail({ errMsg: location });
        else o.success(Object.assign({ errMsg: 'getLocation:ok' }, location));
      }, 0);
    },
    chooseLocation(o) {
      setTimeout(() => o.fail({ errMsg: 'chooseLocation:fail cancel' }), 0);
    },
    requestSubscribeMessage(o) {
      order.push('requestSubscribeMessage');
      calls.subscribe = (calls.subscribe || []).concat([o.tmplIds]);
      setTimeout(() => (subscribeAnswer ? o.success(Object.assign({ errMsg: 'requestSubscribeMessage:ok' }, subscribeAnswer)) : o.fail({ errMsg: 'requestSubscribeMessage:fail' })), 0);
    },
    getPrivacySetting(o) {
      setTimeout(() => o.success({ needAuthorization: false, privacyContractName: '《一门通小程序隐私保护指引》' }), 0);
    },
    onNeedPrivacyAuthorization() {},
    requirePrivacyAuthorize(o) {
      order.push('requirePrivacyAuthorize');
      calls.privacy = (calls.privacy || 0) + 1;
      if (typeof privacyAnswer === 'function') {
        privacyAnswer(o);
        return;
      }
      setTimeout(() => (privacyAnswer === 'agree'
        ? o.success && o.success({ errMsg: 'requirePrivacyAuthorize:ok' })
        : o.fail && o.fail({ errMsg: 'requirePrivacyAuthorize:fail privacy permission is not authorized' })), 0);
    },
    // A file system where every path exists until it is unlinked; saved files are recorded.
    getFileSystemManager() {
      return {
        saveFileSync(temp, target) {
          calls.savedFiles = (calls.savedFiles || []).concat([[temp, target]]);
          return target;
        },
        accessSync(p) {
          if ((calls.unlinked || []).indexOf(p) >= 0) throw new Error(`access:fail no such file ${p}`);
        },
        unlinkSync(p) {
          calls.unlinked = (calls.unlinked || []).concat([p]);
        },
      };
    },
    chooseMedia(o) {
      if (o.fail) setTimeout(() => o.fail({ errMsg: 'chooseMedia:fail cancel' }), 0);
    },
  };

  const control = {
    storage,
    requests,
    uploads,
    calls,
    // fn(record, n) -> {statusCode, data, header} | {fail: errMsg} | a promise of one
    respond(fn) {
      responder = fn;
    },
    respondUpload(fn) {
      uploadResponder = fn;
    },
    answerModal(a) {
      modalAnswer = a;
    },
    setNetwork(type) {
      networkType = type;
    },
    emitNetwork(isConnected) {
      networkType = isConnected ? 'wifi' : 'none';
      networkListeners.forEach((fn) => fn({ isConnected, networkType }));
    },
    setLocation(v) {
      location = v;
    },
    answerSubscribe(v) {
      subscribeAnswer = v;
    },
    answerPrivacy(v) {
      privacyAnswer = v;
    },
    order,
    networkListenerCount: () => networkListeners.length,
    loginCount: () => loginCount,
    body: (i) => JSON.parse(requests[i].data),
  };

  Object.assign(wx, overrides || {});
  return { wx, control };
}

// Installs a fresh fake as the global `wx`, replacing miniprogram-simulate's always-succeeding
// mocks so that every WeChat call a test relies on is one it controls.
function installFakeWx(overrides) {
  const fake = createFakeWx(overrides);
  global.wx = fake.wx;
  return fake.control;
}

// Lets every pending fake answer (and the awaits after it) run.
async function settle(rounds = 20) {
  for (let i = 0; i < rounds; i += 1) {
    await new Promise((r) => setTimeout(r, 0));
  }
}

function problem(status, slug, detail, extra) {
  return {
    statusCode: status,
    header: { 'Content-Type': 'application/problem+json' },
    data: Object.assign(
      { type: `https://yimen.example.org/problems/${slug}`, title: '请求有误', status, detail },
      extra || {},
    ),
  };
}

// An attribute as written in the WXML (miniprogram-simulate keeps them on the virtual node,
// camel-cased: open-type -> openType).
function wxmlAttr(node, name) {
  const a = node.toJSON().attrs.find((x) => x.name === name);
  return a ? a.value : undefined;
}

module.exports = { createFakeWx, installFakeWx, settle, problem, wxmlAttr };
