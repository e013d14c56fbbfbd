#include "store/snapshot.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <faiss/impl/io.h>

#include "common/error.hpp"
#include "store/checksum.hpp"
#include "store/durable_fs.hpp"

namespace cbir::store {

namespace {

// Fixed header: magic, format, checksum of the body, body length. The body starts with the
// SnapshotInfo fields, so the checksum covers them too.
constexpr char kMagic[8] = {'C', 'B', 'I', 'R', 'S', 'N', 'A', 'P'};
// 2: a flat index is stored as raw vectors; 3: the checksum is XXH3-64 (was a hand-written one)
constexpr uint32_t kFormat = 3;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;
constexpr size_t kBufferBytes = size_t{1} << 20;
constexpr uint32_t kMaxSpecBytes = 4096;

std::string sys_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

void put32(unsigned char* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put64(unsigned char* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint32_t get32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t get64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Reads up to `bytes`, retrying short reads; returns how many were read.
size_t read_fully(int fd, void* data, size_t bytes) {
  auto p = static_cast<unsigned char*>(data);
  size_t done = 0;
  while (done < bytes) {
    ssize_t r = ::read(fd, p + done, bytes - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

bool write_fully(int fd, const void* data, size_t bytes) {
  auto p = static_cast<const unsigned char*>(data);
  while (bytes > 0) {
    ssize_t w = ::write(fd, p, bytes);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    bytes -= static_cast<size_t>(w);
  }
  return true;
}

class FileSink final : public SnapshotSink {
 public:
  FileSink(int fd, const std::string& path) : fd_(fd), path_(path), faiss_(*this) {
    buf_.reserve(kBufferBytes);
  }
  // FAISS declares its writers' destructors noexcept(false); ours never throws.
  ~FileSink() noexcept override {}

  void write(const void* data, size_t bytes) override {
    if (bytes == 0) return;  // `data` may then be null
    sum_.update(data, bytes);
    length_ += bytes;
    if (buf_.size() + bytes > kBufferBytes) flush();
    if (bytes >= kBufferBytes) {
      put(data, bytes);
    } else {
      auto p = static_cast<const unsigned char*>(data);
      buf_.insert(buf_.end(), p, p + bytes);
    }
  }
  faiss::IOWriter* faiss_writer() override { return &faiss_; }

  void flush() {
    put(buf_.data(), buf_.size());
    buf_.clear();
  }
  uint64_t checksum() const { return sum_.digest(); }
  uint64_t length() const { return length_; }

 private:
  struct Adapter final : faiss::IOWriter {
    explicit Adapter(FileSink& s) : sink(s) {}
    size_t operator()(const void* ptr, size_t size, size_t nitems) override {
      sink.write(ptr, size * nitems);
      return nitems;
    }
    FileSink& sink;
  };

  void put(const void* data, size_t bytes) {
    if (!write_fully(fd_, data, bytes))
      fail(CBIR_EIO, sys_error("cannot write the index snapshot", path_) +
                         " (is the disk full?); the previous snapshot is kept");
  }

  int fd_;
  const std::string& path_;
  std::vector<unsigned char> buf_;
  Checksum sum_;
  uint64_t length_ = 0;
  Adapter faiss_;
};

class FileSource final : public SnapshotSource {
 public:
  FileSource(int fd, uint64_t length) : fd_(fd), left_(length), faiss_(*this) {}
  ~FileSource() noexcept override {}

  void read(void* data, size_t bytes) override {
    if (take(data, bytes) != bytes) fail(CBIR_ECORRUPT, "the index snapshot ends early");
  }
  faiss::IOReader* faiss_reader() override { return &faiss_; }
  uint64_t left() const { return left_ + (buf_.size() - pos_); }

 private:
  struct Adapter final : faiss::IOReader {
    explicit Adapter(FileSource& s) : source(s) {}
    size_t operator()(void* ptr, size_t size, size_t nitems) override {
      if (size == 0) return nitems;
      return source.take(ptr, size * nitems) / size;
    }
    FileSource& source;
  };

  size_t take(void* data, size_t bytes) {
    auto out = static_cast<unsigned char*>(data);
    size_t done = 0;
    while (done < bytes) {
      if (pos_ == buf_.size()) {
        if (left_ == 0) break;
        if (bytes - done >= kBufferBytes) {  // large reads bypass the buffer
          size_t want = std::min<uint64_t>(bytes - done, left_);
          size_t got = read_fully(fd_, out + done, want);
          left_ -= got;
          done += got;
          if (got < want) break;
          continue;
        }
        buf_.resize(std::min<uint64_t>(kBufferBytes, left_));
        size_t got = read_fully(fd_, buf_.data(), buf_.size());
        buf_.resize(got);
        pos_ = 0;
        left_ -= got;
        if (got == 0) break;
      }
      size_t n = std::min(bytes - done, buf_.size() - pos_);
      std::memcpy(out + done, buf_.data() + pos_, n);
      pos_ += n;
      done += n;
    }
    return done;
  }

  int fd_;
  uint64_t left_;
  std::vector<unsigned char> buf_;
  size_t pos_ = 0;
  Adapter faiss_;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void write_snapshot(const std::string& path, const SnapshotInfo& info,
                    const std::function<void(SnapshotSink&)>& body) {
  const std::string tmp = path + ".tmp";
  Fd f;
  f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f.fd < 0) fail(CBIR_EIO, sys_error("cannot create the index snapshot", tmp));
  try {
    unsigned char header[kHeaderBytes] = {};
    if (!write_fully(f.fd, header, kHeaderBytes))  // placeholder until the checksum is known
      fail(CBIR_EIO, sys_error("cannot write the index snapshot", tmp));
    FileSink sink(f.fd, tmp);
    unsigned char fields[4 + 8 + 8 + 4];
    put32(fields, info.dim);
    put64(fields + 4, static_cast<uint64_t>(info.watermark));
    put64(fields + 12, static_cast<uint64_t>(info.generation));
    put32(fields + 20, static_cast<uint32_t>(info.spec.size()));
    sink.write(fields, sizeof fields);
    sink.write(info.spec.data(), info.spec.size());
    body(sink);
    sink.flush();

    std::memcpy(header, kMagic, 8);
    put32(header + 8, kFormat);
    put64(header + 16, sink.checksum());
    put64(header + 24, sink.length());
    if (::pwrite(f.fd, header, kHeaderBytes, 0) != static_cast<ssize_t>(kHeaderBytes) ||
        ::fsync(f.fd) != 0)
      fail(CBIR_EIO, sys_error("cannot write the index snapshot", tmp));
    if (::close(f.fd) != 0) {
      f.fd = -1;
      fail(CBIR_EIO, sys_error("cannot write the index snapshot", tmp));
    }
    f.fd = -1;
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      fail(CBIR_EIO, sys_error("cannot replace the index snapshot", path));
    fsync_parent_dir(path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

bool read_snapshot(const std::string& path, SnapshotInfo& info,
                   const std::function<void(SnapshotSource&)>& body, std::string& problem) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) {
    problem = errno == ENOENT ? "there is no index snapshot" : sys_error("cannot open", path);
    return false;
  }
  struct stat st {};
  unsigned char header[kHeaderBytes];
  if (::fstat(f.fd, &st) != 0 || read_fully(f.fd, header, kHeaderBytes) != kHeaderBytes ||
      std::memcmp(header, kMagic, 8) != 0) {
    problem = "the index snapshot " + path + " has no valid header";
    return false;
  }
  if (get32(header + 8) != kFormat) {
    problem = get32(header + 8) < kFormat
                  ? "the index snapshot " + path + " was written by an older cbir (format " +
                        std::to_string(get32(header + 8)) + "); it is rebuilt once and saved anew"
                  : "the index snapshot " + path + " has an unknown format";
    return false;
  }
  const uint64_t expected = get64(header + 16);
  const uint64_t length = get64(header + 24);
  if (static_cast<uint64_t>(st.st_size) != kHeaderBytes + length) {
    problem = "the index snapshot " + path + " has the wrong length (truncated or extended)";
    return false;
  }
  // Pass 1: the checksum over the whole body, before anything parses it.
  {
    Checksum sum;
    std::vector<unsigned char> buf(4 * kBufferBytes);
    uint64_t left = length;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), left));
      if (read_fully(f.fd, buf.data(), want) != want) {
        problem = sys_error("cannot read the index snapshot", path);
        return false;
      }
      sum.update(buf.data(), want);
      left -= want;
    }
    if (sum.digest() != expected) {
      problem = "the index snapshot " + path + " fails its checksum (damaged)";
      return false;
    }
  }
  // Pass 2: parse.
  if (::lseek(f.fd, static_cast<off_t>(kHeaderBytes), SEEK_SET) < 0) {
    problem = sys_error("cannot read the index snapshot", path);
    return false;
  }
  FileSource src(f.fd, length);
  try {
    unsigned char fields[4 + 8 + 8 + 4];
    src.read(fields, sizeof fields);
    info.dim = get32(fields);
    info.watermark = static_cast<int64_t>(get64(fields + 4));
    info.generation = static_cast<int64_t>(get64(fields + 12));
    uint32_t spec_len = get32(fields + 20);
    if (spec_len > kMaxSpecBytes) fail(CBIR_ECORRUPT, "the index spec is too long");
    info.spec.assign(spec_len, '\0');
    src.read(info.spec.data(), spec_len);
    body(src);
    if (src.left() != 0) fail(CBIR_ECORRUPT, "unexpected bytes after the index");
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    problem = "the index snapshot " + path + " cannot be read: " + e.what();
    return false;
  }
  return true;
}

}  // namespace cbir::store
