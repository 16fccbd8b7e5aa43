const path = require('path');
const simulate = require('miniprogram-simulate');
const { installFakeWx, settle, wxmlAttr } = require('../../../__tests__/helpers/fake-wx');

// Loaded once per file: jest keeps the module registry, so a second load would not re-register.
const COMPONENT_ID = simulate.load(path.join(__dirname, '..', 'index'));

function mount(props, wxOverrides) {
  const control = installFakeWx(wxOverrides);
  const comp = simulate.render(COMPONENT_ID, props || {});
  comp.attach(document.createElement('parent-wrapper'));
  return { comp, control };
}

describe('privacy-popup', () => {
  let listener;
  let settingAnswer;
  const overrides = () => ({
    onNeedPrivacyAuthorization: (fn) => {
      listener = fn;
    },
    getPrivacySetting: (o) => o.success(settingAnswer),
  });

  beforeEach(() => {
    listener = null;
    settingAnswer = { needAuthorization: true, privacyContractName: '《一门通隐私保护指引》' };
  });

  test('stays hidden until WeChat asks, then shows the contract name', async () => {
    const { comp } = mount({}, overrides());
    expect(comp.querySelector('.privacy')).toBeUndefined();
    expect(typeof listener).toBe('function');

    listener(jest.fn(), { referrer: 'wx.getLocation' });
    await simulate.sleep(0);
    expect(comp.querySelector('.privacy')).toBeTruthy();
    expect(comp.querySelector('.privacy__link').dom.textContent).toBe('《一门通隐私保护指引》');
  });

  test('agree button uses agreePrivacyAuthorization and hands WeChat the button id', async () => {
    const { comp } = mount({}, overrides());
    const resolve = jest.fn();
    const agreed = jest.fn();
    comp.addEventListener('agree', agreed);
    listener(resolve);
    await simulate.sleep(0);

    const button = comp.querySelector('#privacy-agree');
    expect(wxmlAttr(button, 'openType')).toBe('agreePrivacyAuthorization');
    button.dispatchEvent('agreeprivacyauthorization');
    await simulate.sleep(0);

    expect(resolve).toHaveBeenCalledWith({ buttonId: 'privacy-agree', event: 'agree' });
    expect(agreed).toHaveBeenCalledTimes(1);
    expect(comp.querySelector('.privacy')).toBeUndefined();
  });

  test('disagree answers WeChat with disagree and tells the page', async () => {
    const { comp } = mount({}, overrides());
    const resolve = jest.fn();
    const refused = jest.fn();
    comp.addEventListener('disagree', refused);
    listener(resolve);
    await simulate.sleep(0);

    comp.querySelector('.privacy__btn--no').dispatchEvent('tap');
    await simulate.sleep(0);
    expect(resolve).toHaveBeenCalledWith({ event: 'disagree' });
    expect(refused).toHaveBeenCalledTimes(1);
    expect(comp.querySelector('.privacy')).toBeUndefined();
  });

  test('proactive pop-up shows at start only when wx.getPrivacySetting says it is needed', async () => {
    const shown = mount({ proactive: true }, overrides()).comp;
    await settle(2);
    expect(shown.querySelector('.privacy')).toBeTruthy();

    settingAnswer = { needAuthorization: false, privacyContractName: '《一门通隐私保护指引》' };
    const hidden = mount({ proactive: true }, overrides()).comp;
    await settle(2);
    expect(hidden.querySelector('.privacy')).toBeUndefined();
  });

  test('large-text mode reaches the pop-up', async () => {
    const control = installFakeWx(overrides());
    control.storage.set('yimen:a11y:large-text', true);
    const comp = simulate.render(COMPONENT_ID, {});
    comp.attach(document.createElement('parent-wrapper'));
    listener(jest.fn());
    await simulate.sleep(0);
    expect(comp.querySelector('.privacy').dom.className).toContain('a11y-large');
  });
});
