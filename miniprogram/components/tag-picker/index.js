// Choose hardship tags: large tap targets that toggle; the page gets the chosen keys.
Component({
  properties: {
    // [{key, label}]
    tags: { type: Array, value: [] },
    // chosen keys
    value: { type: Array, value: [] },
    // 0: no limit
    max: { type: Number, value: 0 },
    disabled: { type: Boolean, value: false },
  },
  data: {
    items: [],
  },
  observers: {
    'tags, value': function update(tags, value) {
      this.setData({ items: this._items(tags, value) });
    },
  },
  methods: {
    onTap(e) {
      if (this.data.disabled) return;
      const key = e.currentTarget.dataset.key;
      const value = this.data.value.slice();
      const i = value.indexOf(key);
      if (i >= 0) {
        value.splice(i, 1);
      } else {
        if (this.data.max && value.length >= this.data.max) {
          this.triggerEvent('overflow', { max: this.data.max });
          return;
        }
        value.push(key);
      }
      // Keep the order of the tag list, so the same choice always reads the same.
      const ordered = this.data.tags.map((t) => t.key).filter((k) => value.indexOf(k) >= 0);
      this.setData({ value: ordered });
      this.triggerEvent('change', { value: ordered });
    },
    _items(tags, value) {
      return (tags || []).map((t) => ({ key: t.key, label: t.label, selected: (value || []).indexOf(t.key) >= 0 }));
    },
  },
});
