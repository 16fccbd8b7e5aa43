const path = require('path');
const simulate = require('miniprogram-simulate');
const { installFakeWx, settle } = require('../../../__tests__/helpers/fake-wx');

const ID = simulate.load(path.join(__dirname, '..', 'index'));

const TREE = {
  '': [{ code: '330000000000', name: '浙江省', level: 'province' }],
  '330000000000': [{ code: '330500000000', name: '湖州市', level: 'city' }],
  '330500000000': [{ code: '330523000000', name: '安吉县', level: 'county' }],
  '330523000000': [
    { code: '330523001000', name: '递铺街道', level: 'township' },
    { code: '330523100000', name: '孝丰镇', level: 'township' },
  ],
  '330523001000': [{ code: '330523001001', name: '昌硕社区', level: 'village' }],
};

function serveDivisions(control) {
  control.respond((req) => {
    const m = /\/mp\/v1\/divisions(?:\?parent=(\d+))?$/.exec(req.url);
    if (!m) return { statusCode: 404, data: {} };
    return { statusCode: 200, data: { items: TREE[m[1] || ''] || [] } };
  });
}

async function tapOption(comp, name) {
  const option = comp.querySelectorAll('.dp__option').find((o) => o.dom.textContent === name);
  if (!option) throw new Error(`no option ${name}`);
  option.dispatchEvent('tap');
  await settle(4);
}

describe('division-picker', () => {
  // The picker keeps children it loaded for the life of the mini-program; tests use fresh roots.
  test('walks province -> village and reports the village with its whole path', async () => {
    const control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
    serveDivisions(control);
    const comp = simulate.render(ID, { leafLevel: 'village' });
    comp.attach(document.createElement('parent-wrapper'));
    const change = jest.fn();
    comp.addEventListener('change', change);
    await settle(4);
    expect(comp.querySelector('.dp__prompt').dom.textContent).toBe('请选择省（自治区、直辖市）');

    await tapOption(comp, '浙江省');
    await tapOption(comp, '湖州市');
    await tapOption(comp, '安吉县');
    expect(comp.querySelector('.dp__prompt').dom.textContent).toBe('请选择乡镇（街道）');
    await tapOption(comp, '递铺街道');
    expect(change).not.toHaveBeenCalled();
    await tapOption(comp, '昌硕社区');

    const detail = change.mock.calls[0][0].detail;
    expect(detail.code).toBe('330523001001');
    expect(detail.level).toBe('village');
    expect(detail.fullName).toBe('浙江省湖州市安吉县递铺街道昌硕社区');
    expect(control.requests.map((r) => r.url.replace(/^.*\/mp\/v1/, ''))).toEqual([
      '/divisions',
      '/divisions?parent=330000000000',
      '/divisions?parent=330500000000',
      '/divisions?parent=330523000000',
      '/divisions?parent=330523001000',
    ]);
  });

  test('stops at the township for 找窗口, and a crumb tap goes back a level', async () => {
    const control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
    serveDivisions(control);
    const comp = simulate.render(ID, { leafLevel: 'township', rootCode: '330500000000', rootLevel: 'city' });
    comp.attach(document.createElement('parent-wrapper'));
    const change = jest.fn();
    comp.addEventListener('change', change);
    await settle(4);
    await tapOption(comp, '安吉县');
    expect(comp.querySelectorAll('.dp__crumb').map((c) => c.dom.textContent)).toEqual(['安吉县']);

    comp.querySelectorAll('.dp__crumb')[0].dispatchEvent('tap');
    await settle(4);
    expect(comp.querySelectorAll('.dp__crumb').length).toBe(0);
    expect(comp.querySelectorAll('.dp__option').map((o) => o.dom.textContent)).toEqual(['安吉县']);

    await tapOption(comp, '安吉县');
    await tapOption(comp, '孝丰镇');
    expect(change.mock.calls[0][0].detail).toMatchObject({ code: '330523100000', level: 'township' });
  });

  test('a failed load shows the server message and a retry that works', async () => {
    const control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
    let down = true;
    control.respond((req) => (down
      ? { statusCode: 500, data: { title: '服务暂时不可用', detail: '服务暂时不可用，请稍后再试', status: 500 } }
      : { statusCode: 200, data: { items: [{ code: '110000000000', name: '北京市', level: 'province' }] } }));
    const comp = simulate.render(ID, { rootCode: '999999999999', rootLevel: 'county' });
    comp.attach(document.createElement('parent-wrapper'));
    await settle(4);
    expect(comp.querySelector('.dp__state--error').dom.textContent).toContain('服务暂时不可用，请稍后再试');

    down = false;
    comp.querySelector('.dp__retry').dispatchEvent('tap');
    await settle(4);
    expect(comp.querySelectorAll('.dp__option').map((o) => o.dom.textContent)).toEqual(['北京市']);
  });
});
