// 网格员登录 (POST /mobile/v1/auth/login with device_id).
const api = require('../../utils/api');
const { withA11y } = require('../../utils/a11y');
const { loginWorker } = require('../../utils/auth');
const { getDeviceId } = require('../../utils/device');
const { getWorkerQueue } = require('../../utils/offline-queue');
const logic = require('./logic');

Page(withA11y({
  data: {
    form: { username: '', password: '' },
    errors: {},
    message: '',
    busy: false,
  },

  onInput(e) {
    this.setData({ [`form.${e.currentTarget.dataset.field}`]: e.detail.value });
  },

  async onSubmit() {
    if (this.data.busy) return;
    const errors = logic.validateLogin(this.data.form);
    this.setData({ errors, message: '' });
    if (Object.keys(errors).length) return;
    this.setData({ busy: true });
    try {
      await loginWorker(api.worker, {
        username: this.data.form.username.trim(),
        password: this.data.form.password,
        deviceId: getDeviceId(),
      });
      getWorkerQueue().flush();
      wx.redirectTo({ url: '/worker/report/index' });
    } catch (err) {
      this.setData({ message: logic.loginErrorText(err) });
    } finally {
      this.setData({ busy: false });
    }
  },
}));
