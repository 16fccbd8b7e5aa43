// Renders a Page() with miniprogram-simulate. simulate renders components, not pages, so the
// page's own definition (captured from Page()) becomes a component with the page's WXML, its
// data and its methods, and the components from app.json and the page's index.json; attaching
// it runs onLoad(query) then onShow(), as WeChat does when a page opens.
const fs = require('fs');
const path = require('path');
const simulate = require('miniprogram-simulate');

const ROOT = path.join(__dirname, '..', '..');
const LIFECYCLE = ['onLoad', 'onShow', 'onReady', 'onHide', 'onUnload'];

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// jest keeps one module registry per test file, so a module runs once: page definitions and
// component ids are kept here and reused.
const definitions = {};
const componentIds = {};

function componentId(file) {
  // One wcc compile of the whole project (rootPath), so every template has its own path.
  if (!componentIds[file]) componentIds[file] = simulate.load(file, { rootPath: ROOT });
  return componentIds[file];
}

// The page definition passed to Page().
function capturePage(pagePath) {
  if (definitions[pagePath]) return definitions[pagePath];
  let definition = null;
  const previous = global.Page;
  global.Page = (def) => {
    definition = def;
  };
  try {
    require(path.join(ROOT, pagePath, 'index.js')); // eslint-disable-line global-require, import/no-dynamic-require
  } finally {
    global.Page = previous;
  }
  if (!definition) throw new Error(`${pagePath} did not call Page()`);
  definitions[pagePath] = definition;
  return definition;
}

function loadPage(pagePath) {
  const definition = capturePage(pagePath);
  const appJson = readJson(path.join(ROOT, 'app.json'));
  const pageJson = readJson(path.join(ROOT, pagePath, 'index.json'));
  const using = Object.assign({}, appJson.usingComponents || {}, pageJson.usingComponents || {});
  const usingComponents = {};
  Object.keys(using).forEach((name) => {
    usingComponents[name] = componentId(path.join(ROOT, using[name]));
  });
  const methods = {};
  Object.keys(definition).forEach((k) => {
    if (typeof definition[k] === 'function') methods[k] = definition[k];
  });
  let query = {};
  const id = simulate.load({
    template: fs.readFileSync(path.join(ROOT, pagePath, 'index.wxml'), 'utf8'),
    usingComponents,
    data: JSON.parse(JSON.stringify(definition.data || {})),
    methods,
    lifetimes: {
      attached() {
        LIFECYCLE.slice(0, 2).forEach((name) => {
          if (definition[name]) definition[name].call(this, name === 'onLoad' ? query : undefined);
        });
      },
    },
  });
  return {
    definition,
    render(q) {
      query = q || {};
      const page = simulate.render(id);
      page.attach(document.createElement('parent-wrapper'));
      return page;
    },
  };
}

module.exports = { loadPage, capturePage, ROOT };
