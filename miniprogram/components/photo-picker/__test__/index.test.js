const path = require('path');
const simulate = require('miniprogram-simulate');
const { installFakeWx } = require('../../../__tests__/helpers/fake-wx');

const ID = simulate.load(path.join(__dirname, '..', 'index'));

describe('photo-picker', () => {
  let chooseArgs;
  let picked;
  beforeEach(() => {
    chooseArgs = null;
    installFakeWx({
      chooseMedia: (o) => {
        chooseArgs = o;
        o.success({ tempFiles: picked });
      },
    });
  });

  test('asks only for the room left and gives each photo its own client_photo_id', async () => {
    picked = [
      { tempFilePath: 'wxfile://tmp/a.jpg', size: 1000 },
      { tempFilePath: 'wxfile://tmp/b.jpg', size: 2000 },
    ];
    const comp = simulate.render(ID, { max: 6, files: [{ path: 'wxfile://tmp/old.jpg', size: 1, client_photo_id: 'old' }] });
    comp.attach(document.createElement('parent-wrapper'));
    const change = jest.fn();
    comp.addEventListener('change', change);

    comp.querySelector('.photos__add').dispatchEvent('tap');
    await simulate.sleep(0);
    expect(chooseArgs.count).toBe(5);
    expect(chooseArgs.mediaType).toEqual(['image']);
    const files = change.mock.calls[0][0].detail.files;
    expect(files.map((f) => f.path)).toEqual(['wxfile://tmp/old.jpg', 'wxfile://tmp/a.jpg', 'wxfile://tmp/b.jpg']);
    expect(files[1].client_photo_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(files[1].client_photo_id).not.toBe(files[2].client_photo_id);
  });

  test('drops photos over the size limit and hides the add button when full', async () => {
    picked = [{ tempFilePath: 'wxfile://tmp/huge.jpg', size: 16 * 1024 * 1024 }];
    const comp = simulate.render(ID, { max: 2, maxMb: 15, files: [] });
    comp.attach(document.createElement('parent-wrapper'));
    const change = jest.fn();
    comp.addEventListener('change', change);
    comp.querySelector('.photos__add').dispatchEvent('tap');
    await simulate.sleep(0);
    expect(change.mock.calls[0][0].detail.files).toEqual([]);

    comp.setData({ files: [{ path: 'a', client_photo_id: '1' }, { path: 'b', client_photo_id: '2' }] });
    expect(comp.querySelector('.photos__add')).toBeUndefined();
    comp.querySelectorAll('.photos__remove')[0].dispatchEvent('tap');
    await simulate.sleep(0);
    expect(change.mock.calls[1][0].detail.files).toEqual([{ path: 'b', client_photo_id: '2' }]);
  });
});
