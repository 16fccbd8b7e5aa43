// 找窗口: my township's window by location (or by the township I pick); call it, go there.
const api = require('../../utils/api');
const { withA11y } = require('../../utils/a11y');
const { getLocation } = require('../../utils/location');
const logic = require('./logic');

Page(withA11y({
  data: {
    view: null,
    loading: false,
    message: '',
    pickerOpen: false,
  },

  onLoad(query) {
    if (query && query.township) this._find({ townshipCode: query.township });
    else this.onLocate();
  },

  async onLocate() {
    this.setData({ loading: true, message: '正在定位…' });
    try {
      const location = await getLocation();
      this._find({ location });
    } catch (err) {
      this.setData({ loading: false, message: '没有拿到您的位置，请选择您所在的乡镇（街道）', pickerOpen: true });
    }
  },

  onOpenPicker() {
    this.setData({ pickerOpen: true });
  },

  onTownship(e) {
    this.setData({ pickerOpen: false });
    this._find({ townshipCode: e.detail.code.slice(0, 9) });
  },

  onPickerCancel() {
    this.setData({ pickerOpen: false });
  },

  onCall(e) {
    const phone = e.currentTarget.dataset.phone;
    if (phone) wx.makePhoneCall({ phoneNumber: phone });
  },

  onNavigate() {
    if (this._window && this.data.view && this.data.view.canNavigate) {
      wx.openLocation(logic.openLocationArgs(this._window));
    }
  },

  async _find(where) {
    this.setData({ loading: true, message: '正在查找窗口…' });
    try {
      const w = await api.resident.get('/windows/mine', logic.windowQuery(where), { showError: false });
      this._window = w;
      this.setData({ view: logic.windowView(w), loading: false, message: '' });
    } catch (err) {
      const message = err.status === 404 ? '没有找到您所在乡镇（街道）的窗口，请手动选择乡镇（街道）' : err.message;
      this.setData({ loading: false, message, pickerOpen: err.status === 404 });
    }
  },
}));
