// 网格员上报: every report is saved to the offline queue first, then sent when there is signal.
const api = require('../../utils/api');
const { withA11y } = require('../../utils/a11y');
const { loadConfig, cached } = require('../../utils/app-config');
const { workerProfile } = require('../../utils/auth');
const { uuid4 } = require('../../utils/uuid');
const { getLocation } = require('../../utils/location');
const { getWorkerQueue } = require('../../utils/offline-queue');
const { firstError } = require('../../utils/validate');
const logic = require('./logic');

Page(withA11y({
  data: {
    form: logic.initialReport([]),
    villages: [],
    tags: cached().hardship_tags,
    maxPhotos: logic.MAX_PHOTOS,
    errors: {},
    locating: false,
    locationText: '',
    waiting: 0,
    editing: '',
    worker: null,
    submitting: false,
  },

  onLoad(query) {
    if (!api.worker.hasLogin()) {
      wx.redirectTo({ url: '/worker/login/index' });
      return;
    }
    const worker = workerProfile();
    const villages = (worker && worker.villages) || [];
    this.setData({ worker, villages, form: logic.initialReport(villages) });
    loadConfig(api.resident).then((c) => this.setData({ tags: c.hardship_tags }));
    const queued = query && query.queued ? getWorkerQueue().get(query.queued) : null;
    if (queued) {
      this._clientId = queued.client_id;
      this.setData({ editing: queued.client_id, form: logic.formFromBody(queued.body, queued.photos, villages) });
    } else {
      this._newDraft();
      this.onLocate();
    }
  },

  // One client_id per draft, made when the form is started, not per tap: tapping twice, or
  // again after a refusal, saves the same report, never a second one.
  _newDraft() {
    this._clientId = uuid4();
  },

  onShow() {
    this._countWaiting();
  },

  onInput(e) {
    this.setData({ [`form.${e.currentTarget.dataset.field}`]: e.detail.value });
  },

  onVillage(e) {
    this.setData({ 'form.villageIndex': Number(e.detail.value) });
  },

  onUrgent(e) {
    this.setData({ 'form.urgent': e.detail.value });
  },

  onTags(e) {
    this.setData({ 'form.hardship': e.detail.value });
  },

  onPhotos(e) {
    this.setData({ 'form.photos': e.detail.files });
  },

  async onLocate() {
    this.setData({ locating: true });
    try {
      const location = await getLocation({ highAccuracy: true, withTime: true });
      this.setData({ 'form.location': location, locating: false, locationText: `已定位（误差约 ${location.accuracy_m || '?'} 米）` });
    } catch (err) {
      this.setData({ 'form.location': null, locating: false, locationText: err.message });
    }
  },

  async onSubmit() {
    // Set before anything is awaited, so a second tap while this one runs does nothing.
    if (this.data.submitting) return;
    const { form, villages } = this.data;
    const errors = logic.validateReport(form, villages);
    this.setData({ errors });
    if (Object.keys(errors).length) {
      wx.showToast({ title: firstError(errors), icon: 'none', duration: 3000 });
      return;
    }
    this.setData({ submitting: true });
    try {
      await this._save(form, villages);
    } finally {
      this.setData({ submitting: false });
    }
  },

  async _save(form, villages) {
    const queue = getWorkerQueue();
    if (!this._clientId) this._newDraft();
    const clientId = this._clientId;
    const queued = queue.get(clientId);
    // A queued report being corrected keeps the moment it was written.
    const body = logic.buildReportBody(form, {
      clientId, villages, now: new Date(), observedAt: queued ? queued.body.observed_at : '',
    });
    if (queued) queue.update(clientId, body, form.photos);
    else queue.enqueue(body, form.photos);

    wx.showLoading({ title: '正在发送…', mask: true });
    let result;
    try {
      result = await queue.flush();
    } finally {
      wx.hideLoading();
    }
    const sent = result.sent.find((s) => s.client_id === clientId);
    const item = queue.get(clientId);
    if (sent) {
      wx.showModal({ title: '上报成功', content: `编号 ${sent.number || ''}，${sent.status_label || '已送到窗口'}。`, showCancel: false });
    } else if (item && item.state === 'failed') {
      // Still this draft: the corrected report goes out under the same client_id.
      wx.showModal({ title: '需要修改', content: item.error, showCancel: false });
      this._countWaiting();
      return;
    } else if (result.error && result.error.loginRequired) {
      wx.showModal({ title: '请重新登录', content: '报告已保存在手机上，登录后会自动发送。', showCancel: false, success: () => wx.navigateTo({ url: '/worker/login/index' }) });
    } else {
      wx.showModal({ title: '已保存在手机上', content: '现在没有网络，有网络时会自动发送，不用重复上报。', showCancel: false });
    }
    this._newDraft();
    this.setData({ form: logic.initialReport(villages), editing: '', errors: {} });
    this._countWaiting();
    this.onLocate();
  },

  onMyReports() {
    wx.navigateTo({ url: '/worker/reports/index' });
  },

  _countWaiting() {
    this.setData({ waiting: getWorkerQueue().list().length });
  },
}));
