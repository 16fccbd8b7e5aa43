// Choose a place step by step, province -> city -> county -> township -> village, from
// GET /mp/v1/divisions?parent=. Tapping a place at the leaf level ends the choice.
const api = require('../../utils/api');
const { PROMPTS, childLevel, isLeaf } = require('./levels');

// Children lists seldom change: keep them for the life of the mini-program.
const cache = {};

Component({
  properties: {
    // stop at 'village' (户籍, help) or 'township' (找窗口)
    leafLevel: { type: String, value: 'village' },
    // start below this division instead of the provinces (e.g. a worker's county)
    rootCode: { type: String, value: '' },
    rootLevel: { type: String, value: '' },
    title: { type: String, value: '' },
  },
  data: {
    path: [],
    options: [],
    loading: false,
    error: '',
    prompt: PROMPTS.province,
  },
  lifetimes: {
    attached() {
      this._open(this.data.rootCode, this.data.rootLevel);
    },
  },
  methods: {
    onOptionTap(e) {
      const item = this.data.options[e.currentTarget.dataset.index];
      if (!item) return;
      const path = this.data.path.concat([{ code: item.code, name: item.name, level: item.level }]);
      if (isLeaf(item.level, this.data.leafLevel)) {
        this.setData({ path });
        this.triggerEvent('change', {
          code: item.code,
          name: item.name,
          level: item.level,
          fullName: path.map((p) => p.name).join(''),
          path,
        });
        return;
      }
      this.setData({ path });
      this._open(item.code, item.level);
    },
    // Back to a level already passed: tap its name in the path.
    onCrumbTap(e) {
      const index = Number(e.currentTarget.dataset.index);
      const path = this.data.path.slice(0, index);
      const parent = path[path.length - 1];
      this.setData({ path });
      if (parent) this._open(parent.code, parent.level);
      else this._open(this.data.rootCode, this.data.rootLevel);
    },
    onRetry() {
      const parent = this.data.path[this.data.path.length - 1];
      if (parent) this._open(parent.code, parent.level);
      else this._open(this.data.rootCode, this.data.rootLevel);
    },
    onCancel() {
      this.triggerEvent('cancel', {});
    },
    async _open(parentCode, parentLevel) {
      const level = childLevel(parentLevel);
      this.setData({ loading: true, error: '', options: [], prompt: PROMPTS[level] || '请选择' });
      try {
        const items = await this._children(parentCode);
        this.setData({
          loading: false,
          options: items,
          error: items.length ? '' : '这里没有可选的下一级，请返回重新选择',
        });
      } catch (err) {
        this.setData({ loading: false, error: err.message || '加载失败，请重试' });
      }
    },
    async _children(parentCode) {
      const key = parentCode || '';
      if (cache[key]) return cache[key];
      const data = await api.resident.get('/divisions', parentCode ? { parent: parentCode } : null, { showError: false });
      const items = (data && data.items) || [];
      cache[key] = items;
      return items;
    },
  },
});
