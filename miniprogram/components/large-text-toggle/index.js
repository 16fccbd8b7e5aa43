// The 大字模式 switch: one big button; the page persists the choice (utils/a11y).
Component({
  properties: {
    on: { type: Boolean, value: false },
  },
  methods: {
    onTap() {
      this.triggerEvent('change', { on: !this.data.on });
    },
  },
});
