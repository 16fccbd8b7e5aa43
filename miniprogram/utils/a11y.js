// 大字模式 (large text and high contrast), remembered in storage and applied on every page.
// Pages wrap their definition with withA11y(), which binds `a11yClass` on the page's root view;
// app.wxss switches the CSS variables under `.a11y-large`, and components inherit them.
const { STORAGE } = require('./config');

const LARGE_CLASS = 'a11y-large';

function isLargeText() {
  try {
    return wx.getStorageSync(STORAGE.largeText) === true;
  } catch (e) {
    return false;
  }
}

function setLargeText(on) {
  wx.setStorageSync(STORAGE.largeText, !!on);
  return !!on;
}

function classFor(on) {
  return on ? LARGE_CLASS : '';
}

function a11yData() {
  const on = isLargeText();
  return { a11yLarge: on, a11yClass: classFor(on) };
}

function callBoth(mine, theirs) {
  return function both(...args) {
    mine.apply(this, args);
    return theirs ? theirs.apply(this, args) : undefined;
  };
}

/**
 * The page mixin: adds a11yLarge/a11yClass to data, refreshes them on load and on every show
 * (so a toggle on one page reaches the pages behind it), and handles the toggle's change event.
 */
function withA11y(definition) {
  const def = Object.assign({}, definition);
  def.data = Object.assign({ a11yLarge: false, a11yClass: '' }, definition.data || {});
  function refresh() {
    const next = a11yData();
    if (this.data.a11yLarge !== next.a11yLarge || this.data.a11yClass !== next.a11yClass) {
      this.setData(next);
    }
  }
  def.onLoad = callBoth(refresh, definition.onLoad);
  def.onShow = callBoth(refresh, definition.onShow);
  def.onLargeTextChange = function onLargeTextChange(e) {
    setLargeText(!!(e && e.detail && e.detail.on));
    refresh.call(this);
    if (definition.onLargeTextChange) definition.onLargeTextChange.call(this, e);
  };
  return def;
}

let behavior = null;

// The same for components that render outside a page root (pop-ups): a Behavior.
function componentBehavior() {
  if (!behavior) {
    behavior = Behavior({
      data: { a11yLarge: false, a11yClass: '' },
      lifetimes: {
        attached() {
          this.setData(a11yData());
        },
      },
      pageLifetimes: {
        show() {
          this.setData(a11yData());
        },
      },
    });
  }
  return behavior;
}

module.exports = { LARGE_CLASS, isLargeText, setLargeText, classFor, a11yData, withA11y, componentBehavior };
