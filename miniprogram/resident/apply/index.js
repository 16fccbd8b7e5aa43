// 申请救助: category, applicant, household, income and assets, 户籍 village, photos, consent.
const api = require('../../utils/api');
const { withA11y } = require('../../utils/a11y');
const { loadConfig, cached } = require('../../utils/app-config');
const { getDeviceId } = require('../../utils/device');
const { uuid4 } = require('../../utils/uuid');
const { askStatusConsent } = require('../../utils/subscribe');
const { submitWithPhotos, offerPhotoRetry, photoFailureText } = require('../../utils/submit');
const { firstError } = require('../../utils/validate');
const logic = require('./logic');

function memberRelations(relations) {
  return relations.filter((r) => r.key !== 'self');
}

Page(withA11y({
  data: {
    form: logic.initialForm(),
    categories: cached().categories,
    relations: memberRelations(cached().relations),
    relationLabels: {},
    maxPhotos: logic.MAX_PHOTOS,
    consentText: logic.CONSENT_TEXT,
    consentState: logic.consentState(logic.initialForm()),
    errors: {},
    memberErrors: [],
    idHints: [],
    applicantIdHint: '',
    villageOpen: false,
    submitting: false,
  },

  onLoad() {
    this._clientId = uuid4(); // kept with this draft: a resend is a replay
    this._applyConfig(cached());
    loadConfig(api.resident).then((c) => this._applyConfig(c));
  },

  _applyConfig(c) {
    const relations = memberRelations(c.relations);
    const relationLabels = {};
    relations.forEach((r) => { relationLabels[r.key] = r.label; });
    this.setData({ categories: c.categories, relations, relationLabels, maxPhotos: Math.min(c.max_photos.application, logic.MAX_PHOTOS) });
  },

  _setErrors(errors) {
    this.setData({ errors, memberErrors: logic.memberErrors(errors, this.data.form.members.length) });
  },

  _setForm(patch) {
    const next = Object.assign({}, this.data.form, patch);
    this.setData({ form: next, consentState: logic.consentState(next) });
  },

  onCategory(e) {
    this._setForm({ category: e.currentTarget.dataset.key });
  },

  onOnBehalf(e) {
    this._setForm({ onBehalf: e.detail.value });
  },

  onApplicant(e) {
    const field = e.currentTarget.dataset.field;
    const applicant = Object.assign({}, this.data.form.applicant, { [field]: e.detail.value });
    this._setForm({ applicant });
    if (field === 'id_number') this.setData({ applicantIdHint: logic.idHint(e.detail.value) });
  },

  onInput(e) {
    this._setForm({ [e.currentTarget.dataset.field]: e.detail.value });
  },

  onAddMember() {
    if (this.data.form.members.length >= logic.MAX_MEMBERS) {
      wx.showToast({ title: `家庭成员最多 ${logic.MAX_MEMBERS} 人`, icon: 'none' });
      return;
    }
    this._setForm({ members: logic.addMember(this.data.form.members) });
    this._setErrors(this.data.errors);
  },

  onRemoveMember(e) {
    const index = Number(e.currentTarget.dataset.index);
    wx.showModal({
      title: '删除家庭成员',
      content: `确定删除第 ${index + 1} 位家庭成员吗？`,
      success: (r) => {
        if (!r.confirm) return;
        this._setForm({ members: logic.removeMember(this.data.form.members, index) });
        this.setData({ idHints: this.data.idHints.filter((_, i) => i !== index) });
        this._setErrors({}); // indexes moved: old messages would point at the wrong person
      },
    });
  },

  onMemberInput(e) {
    const index = Number(e.currentTarget.dataset.index);
    const field = e.currentTarget.dataset.field;
    this._setForm({ members: logic.updateMember(this.data.form.members, index, field, e.detail.value) });
    if (field === 'id_number') this.setData({ [`idHints[${index}]`]: logic.idHint(e.detail.value) });
  },

  onMemberRelation(e) {
    const index = Number(e.currentTarget.dataset.index);
    const relation = this.data.relations[Number(e.detail.value)];
    this._setForm({ members: logic.updateMember(this.data.form.members, index, 'relation', relation.key) });
  },

  onPhotos(e) {
    this._setForm({ photos: e.detail.files });
  },

  onOpenVillage() {
    this.setData({ villageOpen: true });
  },

  onVillageChange(e) {
    this._setForm({ hukouVillage: { code: e.detail.code, name: e.detail.fullName } });
    this.setData({ villageOpen: false, 'errors.hukou_village_code': '' });
  },

  onVillageCancel() {
    this.setData({ villageOpen: false });
  },

  onConsent(e) {
    this._setForm({ consent: (e.detail.value || []).indexOf('agree') >= 0 });
  },

  // The consent dialog must open from this tap, so nothing is awaited before it.
  onSubmit() {
    if (this.data.submitting) return;
    const prepared = logic.prepareApplication(this.data.form, { clientId: this._clientId, deviceId: getDeviceId() });
    if (!prepared.ok) {
      this._setErrors(prepared.errors);
      wx.showModal({ title: '还有内容要改', content: firstError(prepared.errors), showCancel: false, confirmText: '去修改' });
      return;
    }
    const templateId = cached().subscribe_templates.status;
    this._send(prepared.body, askStatusConsent(templateId), templateId);
  },

  async _send(body, consent, templateId) {
    this.setData({ submitting: true });
    this._setErrors({});
    wx.showLoading({ title: '正在提交…', mask: true });
    let out;
    try {
      out = await submitWithPhotos({
        client: api.resident,
        path: '/applications',
        body,
        photos: this.data.form.photos,
        consent,
        templateId,
      });
    } catch (err) {
      wx.hideLoading();
      // The refused body was not stored, so the corrected one may reuse the client_id; a
      // network failure keeps it too, so the resend is a replay.
      this._setErrors(err.fieldErrors || {});
      this.setData({ submitting: false });
      wx.showModal({ title: '没有提交成功', content: err.message, showCancel: false, confirmText: '知道了' });
      return;
    }
    wx.hideLoading();
    // The application exists; photos that did not go through are offered again (same ids).
    const left = await offerPhotoRetry({
      client: api.resident, path: '/applications', record: out.record, photos: this.data.form.photos, failures: out.photoFailures,
    });
    this.setData({ submitting: false });
    wx.showModal({
      title: '申请已提交',
      content: `编号 ${out.record.number || ''}，已送到${(out.record.township && out.record.township.name) || '户籍所在乡镇（街道）'}窗口。${photoFailureText(left)}`,
      showCancel: false,
      confirmText: '看进度',
      success: () => wx.redirectTo({ url: `/resident/item/index?kind=application&id=${out.record.id}` }),
    });
  },
}));
