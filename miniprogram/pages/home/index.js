// 首页: the services grid and the big 一键求助 button. Logic lives in ./logic.js.
const api = require('../../utils/api');
const { withA11y } = require('../../utils/a11y');
const { STORAGE } = require('../../utils/config');
const { getDeviceId } = require('../../utils/device');
const { uuid4 } = require('../../utils/uuid');
const { getLocation, ensurePrivacy } = require('../../utils/location');
const logic = require('./logic');

Page(withA11y({
  data: {
    services: logic.SERVICES,
    villageOpen: false,
    villageHint: '',
    sending: false,
  },

  onServiceTap(e) {
    const s = logic.SERVICES.find((x) => x.key === e.currentTarget.dataset.key);
    if (!s) return;
    if (s.tab) wx.switchTab({ url: s.url });
    else wx.navigateTo({ url: s.url });
  },

  onWorkerTap() {
    wx.navigateTo({ url: api.worker.hasLogin() ? '/worker/report/index' : '/worker/login/index' });
  },

  async onQuickHelp() {
    if (this.data.sending) return;
    this.setData({ sending: true });
    const result = await logic.runQuickHelp({
      confirm: () => new Promise((resolve) => {
        wx.showModal(Object.assign({}, logic.QUICK_CONFIRM, { success: (r) => resolve(!!r.confirm), fail: () => resolve(false) }));
      }),
      // The privacy agreement first: its pop-up must not open under the loading mask.
      locate: async () => {
        const privacy = await ensurePrivacy(); // refused: rejects, the village is asked instead
        if (privacy === 'ask') return getLocation();
        wx.showLoading({ title: '正在定位…', mask: true });
        return getLocation().finally(() => wx.hideLoading());
      },
      chooseVillage: (why) => this._chooseVillage(why),
      post: (body) => {
        wx.showLoading({ title: '正在发送…', mask: true });
        return api.resident.post('/help-requests', body, { showError: false }).finally(() => wx.hideLoading());
      },
      pending: {
        get: () => wx.getStorageSync(STORAGE.quickHelpPending) || null,
        set: (v) => wx.setStorageSync(STORAGE.quickHelpPending, v),
        clear: () => wx.removeStorageSync(STORAGE.quickHelpPending),
      },
      newId: uuid4,
      deviceId: getDeviceId(),
      contactPhone: wx.getStorageSync(STORAGE.contactPhone) || '',
      now: () => Date.now(),
    });
    this.setData({ sending: false });
    if (result.status === 'sent') {
      wx.showModal({
        title: '求助已发出',
        content: logic.sentMessage(result.record),
        showCancel: false,
        confirmText: '看进度',
        success: () => wx.navigateTo({ url: `/resident/item/index?kind=help&id=${result.record.id}` }),
      });
    } else if (result.status === 'failed') {
      wx.showModal({
        title: '没有发出去',
        content: result.error.network ? '网络不好，求助没有发出去。请到有信号的地方再按一次，或直接拨打窗口电话。' : result.error.message,
        showCancel: false,
        confirmText: '知道了',
      });
    }
  },

  // Location refused: the person picks their village; resolves {code} or null. why: the
  // location error (a refused privacy agreement gets its own plain sentence).
  _chooseVillage(why) {
    return new Promise((resolve) => {
      this._villageResolve = resolve;
      const hint = why && why.privacyRefused ? why.message : '没有拿到您的位置，请选择您所在的村（社区）';
      this.setData({ villageOpen: true, villageHint: hint });
    });
  },

  onVillageChange(e) {
    wx.setStorageSync(STORAGE.lastVillage, { code: e.detail.code, name: e.detail.fullName });
    this._closeVillage({ code: e.detail.code });
  },

  onVillageCancel() {
    this._closeVillage(null);
  },

  _closeVillage(value) {
    this.setData({ villageOpen: false });
    const resolve = this._villageResolve;
    this._villageResolve = null;
    if (resolve) resolve(value);
  },
}));
