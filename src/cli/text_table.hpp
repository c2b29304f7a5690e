#pragma once
// Plain-text tables for the terminal: columns padded to their widest cell,
// two spaces apart, the first row as the header.
#include <ostream>
#include <string>
#include <vector>

namespace rmm::cli {

void write_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

}  // namespace rmm::cli
