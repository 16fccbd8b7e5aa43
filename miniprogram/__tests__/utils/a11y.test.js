const fs = require('fs');
const path = require('path');
const { installFakeWx, settle } = require('../helpers/fake-wx');
const { loadPage, ROOT } = require('../helpers/page-harness');
const a11y = require('../../utils/a11y');

const KEY = 'yimen:a11y:large-text';

function fakePage(def) {
  return Object.assign(Object.create(def), {
    data: JSON.parse(JSON.stringify(def.data)),
    setData(patch) {
      Object.assign(this.data, patch);
    },
  });
}

let control;
beforeEach(() => {
  control = installFakeWx();
});

describe('large-text preference', () => {
  test('persists in storage', () => {
    expect(a11y.isLargeText()).toBe(false);
    a11y.setLargeText(true);
    expect(control.storage.get(KEY)).toBe(true);
    expect(a11y.isLargeText()).toBe(true);
    a11y.setLargeText(false);
    expect(control.storage.get(KEY)).toBe(false);
  });

  test('the page mixin binds the class on load, keeps the page hooks and follows changes on show', () => {
    const onLoad = jest.fn();
    const def = a11y.withA11y({ data: { x: 1 }, onLoad });
    control.storage.set(KEY, true);
    const page = fakePage(def);
    page.onLoad({ id: '7' });
    expect(onLoad).toHaveBeenCalledWith({ id: '7' });
    expect(page.data).toMatchObject({ x: 1, a11yLarge: true, a11yClass: 'a11y-large' });

    control.storage.set(KEY, false); // switched off on another page
    page.onShow();
    expect(page.data).toMatchObject({ a11yLarge: false, a11yClass: '' });

    page.onLargeTextChange({ detail: { on: true } });
    expect(control.storage.get(KEY)).toBe(true);
    expect(page.data.a11yClass).toBe('a11y-large');
  });
});

describe('applied on every page', () => {
  const appJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
  const pages = appJson.pages.concat(...appJson.subPackages.map((p) => p.pages.map((x) => `${p.root}/${x}`)));

  test.each(pages.map((p) => [p]))('%s renders its root with the large-text class when it is on', async (page) => {
    control.storage.set(KEY, true);
    const dir = page.replace(/\/index$/, '');
    const rendered = loadPage(dir).render({});
    await settle(4);
    const root = rendered.querySelector('.page');
    expect(root.dom.className).toContain('a11y-large');

    control.storage.set(KEY, false);
    const plain = loadPage(dir).render({});
    await settle(4);
    expect(plain.querySelector('.page').dom.className).not.toContain('a11y-large');
  });

  test('the toggle on the home page switches the page and remembers it', async () => {
    const home = loadPage('pages/home').render({});
    await settle(4);
    const root = home.querySelector('.page');
    expect(root.dom.className).not.toContain('a11y-large');
    home.querySelector('.a11y-toggle').querySelector('.lt').dispatchEvent('tap');
    await settle(4);
    expect(control.storage.get(KEY)).toBe(true);
    expect(home.querySelector('.page').dom.className).toContain('a11y-large');
    expect(home.querySelector('.a11y-toggle').querySelector('.lt__state').dom.textContent).toBe('已打开');

    // the 我的 page opened afterwards starts large
    const mine = loadPage('pages/mine').render({});
    await settle(4);
    expect(mine.querySelector('.page').dom.className).toContain('a11y-large');
  });
});

describe('large-text styles', () => {
  const css = fs.readFileSync(path.join(ROOT, 'app.wxss'), 'utf8');

  function vars(selector) {
    const block = new RegExp(`\\n${selector.replace('.', '\\.')} \\{([^}]*)\\}`).exec(css)[1];
    const out = {};
    block.replace(/--([\w-]+):\s*([^;]+);/g, (_, k, v) => {
      out[k] = v.trim();
    });
    return out;
  }

  function luminance(hex) {
    const c = hex.replace('#', '');
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(c.slice(i, i + 2), 16) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }

  function contrast(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }

  const PAIRS = [['text', 'bg'], ['muted', 'bg'], ['text', 'card'], ['on-primary', 'primary'], ['on-danger', 'danger'], ['link', 'card'], ['danger', 'card'], ['text', 'muted-bg']];

  test('large mode: body ≥ 40rpx, buttons ≥ 96rpx tall, every text pair ≥ 7:1 (WCAG AAA)', () => {
    const large = Object.assign({}, vars('.page'), vars('.a11y-large'));
    expect(parseInt(large['fs-body'], 10)).toBeGreaterThanOrEqual(40);
    expect(parseInt(large['fs-small'], 10)).toBeGreaterThanOrEqual(36);
    expect(parseInt(large['btn-h'], 10)).toBeGreaterThanOrEqual(96);
    expect(parseInt(large['btn-h-small'], 10)).toBeGreaterThanOrEqual(96);
    PAIRS.forEach(([fg, bg]) => {
      expect([fg, bg, contrast(large[`c-${fg}`], large[`c-${bg}`]) >= 7]).toEqual([fg, bg, true]);
    });
  });

  test('normal mode still meets 4.5:1 (WCAG AA)', () => {
    const normal = vars('.page');
    PAIRS.forEach(([fg, bg]) => {
      expect([fg, bg, contrast(normal[`c-${fg}`], normal[`c-${bg}`]) >= 4.5]).toEqual([fg, bg, true]);
    });
  });
});
