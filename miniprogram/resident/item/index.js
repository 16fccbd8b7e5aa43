// One of my help requests or applications: status, what happens next, the window, timeline.
const api = require('../../utils/api');
const { withA11y } = require('../../utils/a11y');
const logic = require('./logic');

Page(withA11y({
  data: {
    view: null,
    error: '',
    loading: true,
  },

  onLoad(query) {
    this._path = logic.detailPath(query.kind, query.id);
    this._load();
  },

  onPullDownRefresh() {
    this._load().then(() => wx.stopPullDownRefresh());
  },

  onCallWindow() {
    const w = this.data.view && this.data.view.window;
    if (w && w.phone) wx.makePhoneCall({ phoneNumber: w.phone });
  },

  onRetry() {
    this._load();
  },

  async _load() {
    if (!this._path) {
      this.setData({ loading: false, error: '没有找到这条记录' });
      return;
    }
    this.setData({ loading: true, error: '' });
    try {
      const item = await api.resident.get(this._path, null, { showError: false });
      this.setData({ view: logic.detailView(item), loading: false });
    } catch (err) {
      this.setData({ loading: false, error: err.message });
    }
  },
}));
