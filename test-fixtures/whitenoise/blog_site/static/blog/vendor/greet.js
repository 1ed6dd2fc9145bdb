window.greet = function (name) {
  return "hello, " + name;
};
