#pragma once
/// \file recorder.hpp
/// A hook that records the model's rates (or its state) every `every` steps into an
/// xtensor (records × units). Memory is allocated once, when the recorder is made.
///
/// \code
/// neurodyn::Recorder rec(net, grid, 10);            // rates every 10 steps
/// neurodyn::simulate(net, euler, x, grid, input, rec);
/// const auto& r = rec.data();                        // shape (grid.size()/10, N)
/// \endcode
#include <xtensor/xtensor.hpp>

#include "neurodyn/core/error.hpp"
#include "neurodyn/core/time_grid.hpp"
#include "neurodyn/integrate/hooks.hpp"
#include "neurodyn/concepts/model.hpp"

namespace neurodyn {

enum class Record { rates, state };

template <Model M>
class Recorder {
public:
    using T = typename M::scalar_type;

    /// Records after steps every−1, 2·every−1, …: record k holds the state at time
    /// grid.time((k+1)·every).
    Recorder(const M& model, const TimeGrid& grid, std::ptrdiff_t every = 1, Record what = Record::rates)
        : model_(&model), every_(every), what_(what) {
        require(every >= 1, "every", every, "must be >= 1");
        data_ = xt::xtensor<T, 2>::from_shape({std::size_t(grid.size() / every), std::size_t(model.size())});
    }

    void on_trial_begin(const Trial&) { step_ = 0; }

    void on_step(double, Vector<T>& x) {
        ++step_;
        if (step_ % every_ != 0) return;
        const std::size_t k = std::size_t(step_ / every_ - 1);
        if (k >= data_.shape()[0]) return;
        Eigen::Map<Vector<T>> row(&data_(k, 0), model_->size());
        if (what_ == Record::rates)
            row.noalias() = model_->rates(x);
        else
            row = x;
    }

    const xt::xtensor<T, 2>& data() const noexcept { return data_; }
    std::ptrdiff_t every() const noexcept { return every_; }

private:
    const M* model_;
    std::ptrdiff_t every_;
    Record what_;
    std::ptrdiff_t step_ = 0;
    xt::xtensor<T, 2> data_;
};

}  // namespace neurodyn
