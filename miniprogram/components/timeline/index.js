// A status timeline: what happened, when, newest first.
const { toEntries } = require('./entries');

Component({
  properties: {
    // [{at, kind, message}]
    items: { type: Array, value: [] },
    emptyText: { type: String, value: '暂时还没有进展' },
  },
  data: {
    entries: [],
  },
  observers: {
    items(items) {
      this.setData({ entries: toEntries(items) });
    },
  },
});
