// Up to `max` photos from the camera or album; each gets its client_photo_id when picked, so a
// re-upload after a lost answer is recognised by the server.
const { uuid4 } = require('../../utils/uuid');

Component({
  properties: {
    max: { type: Number, value: 6 },
    maxMb: { type: Number, value: 15 },
    // [{path, size, client_photo_id}]
    files: { type: Array, value: [] },
  },
  methods: {
    onAdd() {
      const room = this.data.max - this.data.files.length;
      if (room <= 0) {
        wx.showToast({ title: `最多 ${this.data.max} 张照片`, icon: 'none' });
        return;
      }
      wx.chooseMedia({
        count: room,
        mediaType: ['image'],
        sourceType: ['camera', 'album'],
        sizeType: ['compressed'],
        success: (res) => this._add(res.tempFiles || []),
      });
    },
    onRemove(e) {
      const index = Number(e.currentTarget.dataset.index);
      const files = this.data.files.filter((_, i) => i !== index);
      this.triggerEvent('change', { files });
    },
    onPreview(e) {
      const index = Number(e.currentTarget.dataset.index);
      wx.previewImage({ current: this.data.files[index].path, urls: this.data.files.map((f) => f.path) });
    },
    _add(tempFiles) {
      const limit = this.data.maxMb * 1024 * 1024;
      const fit = tempFiles.filter((f) => !f.size || f.size <= limit);
      if (fit.length < tempFiles.length) {
        wx.showToast({ title: `照片不能超过 ${this.data.maxMb} MB`, icon: 'none' });
      }
      const added = fit.map((f) => ({ path: f.tempFilePath, size: f.size || 0, client_photo_id: uuid4() }));
      const files = this.data.files.concat(added).slice(0, this.data.max);
      this.triggerEvent('change', { files });
    },
  },
});
