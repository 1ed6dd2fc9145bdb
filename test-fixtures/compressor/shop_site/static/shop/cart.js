window.shop = window.shop || {};
window.shop.cart = {
  items: [],
  add: function (item) {
    this.items.push(item);
  },
};
