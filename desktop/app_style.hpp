#pragma once
// Fusion, with two things it draws too faintly for our palettes: check boxes
// (Fusion outlines them in a darker Window colour, invisible on the dark
// theme) and checked toggle buttons (Fusion shades them a tenth darker, so
// "Parameters" open looked like closed). Both take the palette's colours, so
// they follow a theme change.
#include <QProxyStyle>

namespace rmm::desktop {

class AppStyle : public QProxyStyle {
 public:
  AppStyle();
  void drawPrimitive(PrimitiveElement element, const QStyleOption* option, QPainter* painter,
                     const QWidget* widget = nullptr) const override;
};

}  // namespace rmm::desktop
