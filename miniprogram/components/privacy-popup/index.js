// The privacy agreement WeChat requires before location, photos or the phone number.
// WeChat calls wx.onNeedPrivacyAuthorization when such an API is used before the person agreed;
// this pop-up shows, and the person's choice is handed back to WeChat through `resolve`, which
// lets the waiting API call continue (agree) or fail (disagree).
const a11y = require('../../utils/a11y');

const AGREE_BUTTON_ID = 'privacy-agree';

Component({
  behaviors: [a11y.componentBehavior()],
  properties: {
    title: { type: String, value: '隐私保护提示' },
    // Also show at start when the person has not agreed yet (not only when an API asks).
    proactive: { type: Boolean, value: false },
  },
  data: {
    show: false,
    contractName: '《一门通小程序隐私保护指引》',
    agreeButtonId: AGREE_BUTTON_ID,
  },
  lifetimes: {
    attached() {
      this._listen();
      this._readSetting();
    },
    detached() {
      this._pending = null;
    },
  },
  pageLifetimes: {
    // Only one listener exists per mini-program: the page on screen takes it back.
    show() {
      this._listen();
    },
  },
  methods: {
    onAgree() {
      this._answer({ buttonId: AGREE_BUTTON_ID, event: 'agree' });
      this.triggerEvent('agree', {});
    },
    onDisagree() {
      this._answer({ event: 'disagree' });
      this.triggerEvent('disagree', {});
    },
    onOpenContract() {
      if (typeof wx.openPrivacyContract === 'function') wx.openPrivacyContract({});
    },
    _answer(answer) {
      const resolve = this._pending;
      this._pending = null;
      this.setData({ show: false });
      if (typeof resolve === 'function') resolve(answer);
    },
    _listen() {
      if (typeof wx.onNeedPrivacyAuthorization !== 'function') return;
      wx.onNeedPrivacyAuthorization((resolve) => {
        this._pending = resolve;
        this.setData({ show: true });
        this.triggerEvent('need', {});
      });
    },
    _readSetting() {
      if (typeof wx.getPrivacySetting !== 'function') return;
      wx.getPrivacySetting({
        success: (res) => {
          const update = {};
          if (res.privacyContractName) update.contractName = res.privacyContractName;
          if (this.data.proactive && res.needAuthorization) update.show = true;
          this.setData(update);
        },
      });
    },
  },
});
