// 我的: my requests and applications (pull down to refresh, scroll for more), 大字模式, phone.
const api = require('../../utils/api');
const { withA11y } = require('../../utils/a11y');
const { residentProfile } = require('../../utils/auth');
const { STORAGE } = require('../../utils/config');
const logic = require('./logic');

Page(withA11y({
  data: {
    rows: [],
    nextCursor: null,
    done: false,
    loading: false,
    error: '',
    phone: '',
  },

  // A subscribe message opens "pages/mine/index?id=…" (kind optional): go on to that item.
  onLoad(query) {
    this._openId = (query && query.id) || '';
    this._openKind = (query && query.kind) || '';
    if (this._openId && this._openKind) this._openItem(this._openKind, this._openId);
    this._load(true);
  },

  _openItem(kind, id) {
    this._openId = '';
    wx.navigateTo({ url: `/resident/item/index?kind=${kind}&id=${id}` });
  },

  // Back on this tab (after a new request, say): the phone, and the list again, but not more
  // often than logic.RELOAD_MIN_MS (onLoad has just loaded it when the page first opens).
  onShow() {
    const me = residentProfile();
    this.setData({ phone: (me && me.phone) || '' });
    if (logic.shouldReload(this._loadedAt, Date.now())) this._load(true);
  },

  onPullDownRefresh() {
    this._load(true).then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    if (!this.data.done) this._load(false);
  },

  onRowTap(e) {
    wx.navigateTo({ url: e.currentTarget.dataset.url });
  },

  onRetry() {
    this._load(true);
  },

  // <button open-type="getPhoneNumber">: the code goes to the server, which asks WeChat.
  async onGetPhone(e) {
    if (!e.detail || !e.detail.code) return;
    try {
      const res = await api.resident.post('/me/phone', { code: e.detail.code });
      const me = Object.assign({}, residentProfile() || {}, { phone: res.phone });
      wx.setStorageSync(STORAGE.residentProfile, me);
      this.setData({ phone: res.phone });
      wx.showToast({ title: '手机号已绑定', icon: 'success' });
    } catch (err) {
      // request.js has shown the message
    }
  },

  onWorkerTap() {
    wx.navigateTo({ url: api.worker.hasLogin() ? '/worker/reports/index' : '/worker/login/index' });
  },

  async _load(reset) {
    if (this.data.loading) return;
    if (reset) this._loadedAt = Date.now();
    this.setData({ loading: true, error: '' });
    try {
      const page = await api.resident.get('/items', logic.pageQuery(reset ? null : this.data.nextCursor), { showError: false });
      const next = logic.mergePage(this.data.rows, page, reset);
      this.setData({ rows: next.rows, nextCursor: next.nextCursor, done: next.done, loading: false });
      const wanted = this._openId && next.rows.find((r) => r.id === this._openId);
      if (wanted) this._openItem(wanted.kind, wanted.id);
    } catch (err) {
      this.setData({ loading: false, error: err.message });
    }
  },
}));
