window.shop = window.shop || {};
window.shop.checkout = function () {
  return window.shop.cart.items.length;
};
