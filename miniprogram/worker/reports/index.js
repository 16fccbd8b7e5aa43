// 我的上报: waiting/failed reports from the queue, then the reports the server has.
const api = require('../../utils/api');
const { withA11y } = require('../../utils/a11y');
const { logoutWorker } = require('../../utils/auth');
const { getWorkerQueue } = require('../../utils/offline-queue');
const logic = require('./logic');

Page(withA11y({
  data: {
    queued: [],
    rows: [],
    nextCursor: null,
    loading: false,
    error: '',
    flushing: false,
  },

  onLoad() {
    if (!api.worker.hasLogin()) {
      wx.redirectTo({ url: '/worker/login/index' });
      return;
    }
    this._off = getWorkerQueue().onChange(() => this._showQueue());
    this._load(true);
  },

  onUnload() {
    if (this._off) this._off();
  },

  onShow() {
    this._showQueue();
  },

  onPullDownRefresh() {
    this.onSendNow().then(() => this._load(true)).then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    if (this.data.nextCursor) this._load(false);
  },

  async onSendNow() {
    this.setData({ flushing: true });
    const result = await getWorkerQueue().flush();
    this.setData({ flushing: false });
    if (result.offline) wx.showToast({ title: '现在没有网络，有网络时会自动发送', icon: 'none', duration: 3000 });
    if (result.sent.length) this._load(true);
    this._showQueue();
  },

  onEdit(e) {
    wx.navigateTo({ url: `/worker/report/index?queued=${e.currentTarget.dataset.id}` });
  },

  onRetry(e) {
    getWorkerQueue().retry(e.currentTarget.dataset.id);
    this.onSendNow();
  },

  onRemove(e) {
    const id = e.currentTarget.dataset.id;
    wx.showModal({
      title: '删除这份报告',
      content: '删除后手机上不再保存，确定吗？',
      success: (r) => {
        if (r.confirm) {
          getWorkerQueue().remove(id);
          this._showQueue();
        }
      },
    });
  },

  onNewReport() {
    wx.navigateBack({ fail: () => wx.redirectTo({ url: '/worker/report/index' }) });
  },

  // This worker's unsent reports stay on the phone (another worker logging in does not send
  // them); they go out when this worker logs in again. The confirmation says how many wait.
  onLogout() {
    wx.showModal({
      title: '退出登录',
      content: logic.logoutMessage(getWorkerQueue().list()),
      confirmText: '退出',
      cancelText: '不退出',
      success: async (r) => {
        if (!r.confirm) return;
        await logoutWorker(api.worker);
        wx.reLaunch({ url: '/pages/home/index' });
      },
    });
  },

  _showQueue() {
    this.setData({ queued: getWorkerQueue().list().map(logic.queuedRow) });
  },

  async _load(reset) {
    if (this.data.loading) return;
    this.setData({ loading: true, error: '' });
    try {
      const query = reset ? { limit: 20 } : { limit: 20, cursor: this.data.nextCursor };
      const page = await api.worker.get('/reports', query, { showError: false });
      const queuedIds = getWorkerQueue().list().map((q) => q.client_id);
      const next = logic.mergeReports(this.data.rows, page, reset, queuedIds);
      this.setData({ rows: next.rows, nextCursor: next.nextCursor, loading: false });
    } catch (err) {
      this.setData({ loading: false, error: err.network ? '没有网络，下面只显示手机上保存的报告' : err.message });
      if (err.loginRequired) wx.redirectTo({ url: '/worker/login/index' });
    }
  },
}));
