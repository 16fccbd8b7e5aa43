// 求助: for myself or someone else, hardship, description, photos, location or village, phone.
const api = require('../../utils/api');
const { withA11y } = require('../../utils/a11y');
const { STORAGE } = require('../../utils/config');
const { loadConfig, cached } = require('../../utils/app-config');
const { residentProfile } = require('../../utils/auth');
const { getDeviceId } = require('../../utils/device');
const { uuid4 } = require('../../utils/uuid');
const { getLocation, chooseLocation } = require('../../utils/location');
const { askStatusConsent } = require('../../utils/subscribe');
const { isOutcomeUnknown } = require('../../utils/request');
const { submitWithPhotos, offerPhotoRetry, photoFailureText } = require('../../utils/submit');
const { firstError } = require('../../utils/validate');
const logic = require('./logic');

Page(withA11y({
  data: {
    form: logic.initialForm(),
    tags: cached().hardship_tags,
    maxPhotos: logic.MAX_PHOTOS,
    errors: {},
    boundPhone: '',
    locating: false,
    villageOpen: false,
    submitting: false,
  },

  onLoad() {
    const me = residentProfile();
    this.setData({
      form: logic.initialForm({
        contactPhone: wx.getStorageSync(STORAGE.contactPhone) || '',
        lastVillage: wx.getStorageSync(STORAGE.lastVillage) || null,
      }),
      boundPhone: (me && me.phone) || '',
    });
    loadConfig(api.resident).then((c) => this.setData({ tags: c.hardship_tags, maxPhotos: Math.min(c.max_photos.help, logic.MAX_PHOTOS) }));
    this.onLocate();
  },

  onForSelf(e) {
    this.setData({ 'form.forSelf': e.currentTarget.dataset.value === 'self', errors: {} });
  },

  onInput(e) {
    this.setData({ [`form.${e.currentTarget.dataset.field}`]: e.detail.value });
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
      const location = await getLocation();
      this.setData({ 'form.location': location, 'form.useVillage': false, 'form.locationText': '已获取您现在的位置', locating: false, 'errors.location': '' });
    } catch (err) {
      this.setData({ locating: false, 'form.location': null, 'form.locationText': err.message, 'form.useVillage': true });
    }
  },

  async onPickOnMap() {
    try {
      const picked = await chooseLocation();
      this.setData({ 'form.location': picked.location, 'form.useVillage': false, 'form.locationText': picked.name || picked.address || '已在地图上选好位置' });
    } catch (e) {
      // the person closed the map
    }
  },

  onOpenVillage() {
    this.setData({ villageOpen: true });
  },

  onVillageChange(e) {
    const village = { code: e.detail.code, name: e.detail.fullName };
    wx.setStorageSync(STORAGE.lastVillage, village);
    this.setData({ 'form.village': village, 'form.useVillage': true, villageOpen: false, 'errors.location': '' });
  },

  onVillageCancel() {
    this.setData({ villageOpen: false });
  },

  async onGetPhone(e) {
    if (!e.detail || !e.detail.code) return;
    try {
      const res = await api.resident.post('/me/phone', { code: e.detail.code });
      wx.setStorageSync(STORAGE.residentProfile, Object.assign({}, residentProfile() || {}, { phone: res.phone }));
      this.setData({ boundPhone: res.phone, 'errors.contact_phone': '' });
    } catch (err) {
      // shown by request.js
    }
  },

  // The consent dialog must open from this tap, so nothing is awaited before it.
  onSubmit() {
    if (this.data.submitting) return;
    const form = this.data.form;
    const errors = logic.validateHelp(form, { hasBoundPhone: !!this.data.boundPhone });
    if (Object.keys(errors).length) {
      this.setData({ errors });
      wx.showToast({ title: firstError(errors), icon: 'none', duration: 3000 });
      return;
    }
    const templateId = cached().subscribe_templates.status;
    const consent = askStatusConsent(templateId);
    const draft = logic.buildHelpBody(form, { clientId: '', deviceId: getDeviceId() });
    const unanswered = logic.pendingHelp(wx.getStorageSync(STORAGE.helpPending), Date.now());
    const body = Object.assign(draft, { client_id: logic.clientIdFor(draft, unanswered, uuid4) });
    this._send(body, consent, templateId);
  },

  async _send(body, consent, templateId) {
    this.setData({ submitting: true, errors: {} });
    if (body.contact_phone) wx.setStorageSync(STORAGE.contactPhone, body.contact_phone);
    // Kept until the server settles it, so a resend (even after the page was closed) with the
    // same content is a replay under the same client_id, not a second request.
    wx.setStorageSync(STORAGE.helpPending, { body, at: Date.now() });
    wx.showLoading({ title: '正在提交…', mask: true });
    let out;
    try {
      out = await submitWithPhotos({
        client: api.resident,
        path: '/help-requests',
        body,
        photos: this.data.form.photos,
        consent,
        templateId,
        onCreated: () => wx.removeStorageSync(STORAGE.helpPending),
      });
    } catch (err) {
      wx.hideLoading();
      // No answer, 408, 429 or 5xx: the server may have it; only a definite refusal frees the id.
      if (!isOutcomeUnknown(err)) wx.removeStorageSync(STORAGE.helpPending);
      this.setData({ errors: err.fieldErrors || {}, submitting: false });
      wx.showModal({ title: '没有提交成功', content: err.message, showCancel: false, confirmText: '知道了' });
      return;
    }
    wx.hideLoading();
    const left = await offerPhotoRetry({
      client: api.resident, path: '/help-requests', record: out.record, photos: this.data.form.photos, failures: out.photoFailures,
    });
    this.setData({ submitting: false });
    wx.showModal({
      title: '求助已提交',
      content: `编号 ${out.record.number || ''}。窗口工作人员会尽快联系。${photoFailureText(left)}`,
      showCancel: false,
      confirmText: '看进度',
      success: () => wx.redirectTo({ url: `/resident/item/index?kind=help&id=${out.record.id}` }),
    });
  },
}));
